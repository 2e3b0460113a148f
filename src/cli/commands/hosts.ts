import type { Command } from 'commander';
import { EXIT } from '../../errors.ts';
import { checkHosts, type HostCheck, trustHost } from '../../jobs/hosts.ts';
import type { CliContext } from '../context.ts';

export function registerHosts(program: Command, ctx: CliContext): void {
  const hosts = program.command('hosts').description('Trust and check the SSH hosts bo drives');
  hosts
    .command('trust')
    .description(
      "Record a host's SSH key in its known_hosts file (compare only, when the config pins hostKey)",
    )
    .argument('<host>', 'host name from the config')
    .option(
      '--fingerprint <SHA256:…>',
      'refuse unless the host presents exactly this key (verified out of band)',
    )
    .option('--replace', 'replace a different key already recorded for the host')
    .addHelpText(
      'after',
      `
Only the key exchange happens: no authentication, no command. Compare the fingerprint with
\`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` run on the host itself.

Examples:
  bo hosts trust files1
  bo hosts trust files1 --fingerprint SHA256:abc…   (scripts: verified out of band)
  bo hosts trust files1 --replace                   (after a reinstall)`,
    )
    .action(async (host: string, opts: { fingerprint?: string; replace?: boolean }) => {
      const r = await trustHost(host, {
        config: ctx.config().config,
        log: ctx.log,
        signal: ctx.signal,
        ...(opts.fingerprint !== undefined ? { fingerprint: opts.fingerprint } : {}),
        ...(opts.replace ? { replace: true } : {}),
      });
      ctx.out.print(`${r.host} presented ${r.keyType} ${r.fingerprint}`);
      if (r.source === 'hostKey') {
        if (r.alreadyTrusted)
          ctx.out.print('it matches hostKey in the config (the config pin is not changed)');
        else {
          ctx.out.print(
            'it does NOT match hostKey in the config; nothing was changed: update the pin if this is expected',
          );
          ctx.setExit(EXIT.jobFailed);
        }
      } else if (r.recorded) {
        ctx.out.print(`${r.replaced ? 'replaced the old key in' : 'recorded in'} ${r.file}`);
      } else ctx.out.print(`already trusted (${r.file})`);
    });

  hosts
    .command('check')
    .description('Connect to hosts, run a probe and report latency, host key, GNU tar and zstd')
    .argument('[hosts...]', 'host names (default: every configured host)')
    .option('--json', 'print the results as JSON')
    .addHelpText(
      'after',
      `
Each host is asked once over SSH (host key pinned, as for backups). Exit code 1 when any host
fails; each failure is explained below the table.

Examples:
  bo hosts check
  bo hosts check files1 db1 --json`,
    )
    .action(async (names: string[], opts: { json?: boolean }) => {
      const results = await checkHosts(names, {
        config: ctx.config().config,
        log: ctx.log,
        signal: ctx.signal,
      });
      if (opts.json) ctx.out.json({ hosts: results });
      else ctx.out.print(results.length === 0 ? 'no hosts configured' : table(results));
      if (results.some((r) => !r.ok)) ctx.setExit(EXIT.jobFailed);
    });
}

function table(results: HostCheck[]): string {
  const rows = [
    ['HOST', 'STATUS', 'LATENCY', 'TAR', 'ZSTD', 'HOST KEY'],
    ...results.map((r) => [
      r.host,
      r.ok ? 'ok' : 'FAILED',
      `${r.latencyMs}ms`,
      r.ok ? (r.tar ?? 'missing') : '-',
      r.ok ? (r.zstd ? 'yes' : 'missing') : '-',
      r.fingerprint ?? '-',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = rows.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
  for (const r of results) {
    if (r.ok) continue;
    lines.push('', `${r.host}: ${r.error}`);
    if (r.hint) lines.push(`  hint: ${r.hint}`);
  }
  return lines.join('\n');
}
