import { DatabaseSync } from 'node:sqlite';
import { pino } from 'pino';
import { migrate } from '../../../src/catalog/db.ts';
import { migrations } from '../../../src/catalog/migrations.ts';
import { parseResolved } from '../../../src/config/resolve-secrets.ts';
import { Config } from '../../../src/config/schema.ts';
import { createScheduler, type RunEvent, type Scheduler } from '../../../src/daemon/scheduler.ts';
import { BoError, CancelledError } from '../../../src/errors.ts';
import type { JobRunContext, JobRunResult } from '../../../src/jobs/kinds.ts';
import type { Logger } from '../../../src/log.ts';
import type { Services } from '../../../src/services.ts';
import { type FakeClock, fakeClock } from './fake-clock.ts';

export interface Call {
  job: string;
  at: string;
  ctx: JobRunContext;
  finish(result?: Partial<JobRunResult>): void;
  fail(message: string): void;
}

/** What a fake job body does when called: finish at once, fail at once, or wait for the test. */
export type Behaviour = 'ok' | 'fail' | 'wait';

export interface Harness {
  clock: FakeClock;
  db: DatabaseSync;
  scheduler: Scheduler;
  calls: Call[];
  events: RunEvent[];
  logs: Array<Record<string, unknown>>;
  behaviour: Map<string, Behaviour>;
  config: Config;
  services: Services;
  servicesFor(config: Config): Services & { closed: boolean };
}

export function parseConfig(input: Record<string, unknown>): Config {
  return parseResolved(Config, { stateDir: '/nonexistent', ...input });
}

export function stubServices(config: Config, log: Logger, clock: FakeClock): Services & { closed: boolean } {
  const s = {
    config,
    log,
    clock,
    closed: false,
    storage(): never {
      throw new Error('no storage in unit tests');
    },
    host(): never {
      throw new Error('no hosts in unit tests');
    },
    async close() {
      s.closed = true;
    },
  };
  return s;
}

/** A scheduler over an in-memory state database, a fake clock and fake job bodies. */
export function harness(
  input: Record<string, unknown>,
  opts: {
    start?: string;
    random?: () => number;
    db?: DatabaseSync;
    autostart?: boolean;
    behaviour?: Record<string, Behaviour>;
  } = {},
): Harness {
  const clock = fakeClock(opts.start ?? '2026-01-05T12:00:00Z');
  const logs: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => logs.push(JSON.parse(s)) });
  const db = opts.db ?? new DatabaseSync(':memory:');
  if (!opts.db) migrate(db, migrations);
  const config = parseConfig(input);
  const calls: Call[] = [];
  const behaviour = new Map<string, Behaviour>(Object.entries(opts.behaviour ?? {}));
  let seq = 0;
  const services = stubServices(config, log, clock);
  const scheduler = createScheduler({
    config,
    services,
    clock,
    log,
    db,
    random: opts.random ?? (() => 0),
    newRunId: () => `run-${++seq}`,
    ownerAlive: () => false,
    execute: (job, _j, ctx) =>
      new Promise<JobRunResult>((resolve, reject) => {
        const call: Call = {
          job,
          at: clock.now().toISOString(),
          ctx,
          finish: (r) => resolve({ summary: 'done', ...r }),
          fail: (m) => reject(new BoError(m)),
        };
        calls.push(call);
        ctx.signal.addEventListener('abort', () => reject(new CancelledError()), { once: true });
        const b = behaviour.get(job) ?? 'ok';
        if (b === 'ok') call.finish({ bytes: 10, files: 1 });
        if (b === 'fail') call.fail(`${job} broke`);
      }),
  });
  const events: RunEvent[] = [];
  scheduler.subscribe((e) => events.push(e));
  if (opts.autostart !== false) scheduler.start();
  return {
    clock,
    db,
    scheduler,
    calls,
    events,
    logs,
    behaviour,
    config,
    services,
    servicesFor: (c) => stubServices(c, log, clock),
  };
}

export const MIN = 60_000;
export const HOUR = 3_600_000;
