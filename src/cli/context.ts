import { type Clock, systemClock } from '../clock.ts';
import { type LoadedConfig, loadConfig } from '../config/load.ts';
import type { ExitCode } from '../errors.ts';
import type { LogFormat, Logger } from '../log.ts';
import { createServices, type Services } from '../services.ts';
import type { Output } from './output.ts';

/** Everything a command needs, built once per invocation by main.ts and passed down. */
export interface CliContext {
  log: Logger;
  out: Output;
  clock: Clock;
  /** Aborted by SIGINT/SIGTERM. */
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
  /** What --log-level/--log-format (or $BO_LOG_LEVEL/$BO_LOG_FORMAT) asked for, validated; unset: the default. */
  logging: { level: string | undefined; format: LogFormat | undefined };
  /** Raises the process exit code (the highest one set wins); commands report failures this way. */
  setExit(code: ExitCode): void;
  /** Loads and validates the config on first use (global --config flag). */
  config(): LoadedConfig;
  /** Storage and host connections for the loaded config; closed by main.ts at exit. */
  services(): Services;
}

export function createCliContext(opts: {
  log: Logger;
  out: Output;
  signal: AbortSignal;
  logging?: CliContext['logging'];
  configFlag: () => string | undefined;
  env?: NodeJS.ProcessEnv;
}): CliContext & { close(): Promise<void>; exitCode(): ExitCode } {
  let exit: ExitCode = 0;
  let loaded: LoadedConfig | undefined;
  let services: Services | undefined;
  const env = opts.env ?? process.env;
  const ctx = {
    log: opts.log,
    out: opts.out,
    clock: systemClock,
    signal: opts.signal,
    env,
    logging: opts.logging ?? { level: undefined, format: undefined },
    setExit(code: ExitCode) {
      // 130 (cancelled) outranks 2 (usage) outranks 1 (failed).
      if (code > exit) exit = code;
    },
    exitCode: () => exit,
    config() {
      if (!loaded) {
        loaded = loadConfig({ flag: opts.configFlag(), env });
        // A warning, not info: at a terminal only warnings show, and nobody should take the
        // example's backups for their own.
        if (loaded.embedded)
          opts.log.warn(
            { file: loaded.file },
            'No config found: using the shipped example config (give --config FILE or create /etc/bo/bo.yaml)',
          );
      }
      return loaded;
    },
    services() {
      services ??= createServices({ config: ctx.config().config, log: opts.log, clock: systemClock });
      return services;
    },
    async close() {
      await services?.close();
    },
  };
  return ctx;
}
