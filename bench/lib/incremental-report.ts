/** The printed side-by-side table of bench/incremental.ts, with the targets of issue 11. */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { Measured } from './measure.ts';

export interface Run {
  m: Measured;
  /** Growth of the repository (directory or bucket), in bytes. */
  stored: number;
  /** Whether the sshd took part (its CPU is in m.serverCpuSeconds). */
  remote: boolean;
  /** bo: full (no chain) / full (chain root) / incremental Ln. */
  kind?: string;
}

export interface SetupResults {
  name: string;
  /** One per case, in order. */
  results: { bo: Run; restic: Run }[];
}

export interface ReportContext {
  cases: string[];
  tree: { files: number; bytes: number };
  treeLabel: string;
  /** Load average when the run started. */
  load: number;
  /** performance.now() when the run started. */
  started: number;
  /** One line per changed-tree case. */
  mutations: string[];
  repoRoot: string;
}

export function printReport(setups: SetupResults[], ctx: ReportContext): void {
  const { tree, load } = ctx;
  console.log(
    `\nincremental backups: bo ${boVersion(ctx.repoRoot)}, run ${boEntry(ctx.repoRoot)}, beside ${resticVersion()}`,
  );
  console.log(
    `tree: ${tree.files} files, ${(tree.bytes / 1e6).toFixed(0)} MB (${ctx.treeLabel}); ` +
      `${cpus().length} cores, load average ${load.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end; ` +
      `${((performance.now() - ctx.started) / 60_000).toFixed(1)} min in all`,
  );
  const cols = ['wall', 'CPU', 'server', 'RSS'].map((h) => h.padStart(8)).join(' ') + 'stored'.padStart(11);
  console.log(`\n${' '.repeat(21)}| ${'bo'.padEnd(65)}| ${'restic'.padEnd(47)}|`);
  console.log(`setup  case          | ${'kind'.padEnd(17)} ${cols} | ${cols} | wall bo/restic`);
  for (const s of setups) {
    s.results.forEach((r, i) => {
      const ratio = r.bo.m.ms / r.restic.m.ms;
      console.log(
        `${s.name.padEnd(6)} ${ctx.cases[i]!.padEnd(13)} | ${r.bo.kind!.padEnd(17)} ${cells(r.bo)} | ${cells(r.restic)} |  ${ratio.toFixed(2)}x`,
      );
    });
  }
  console.log('\ntargets (issue 11)');
  for (const s of setups) {
    const [full, unchanged, one] = s.results;
    if (!full || !unchanged || !one) continue;
    const pct = (unchanged.bo.stored / full.bo.stored) * 100;
    const rpct = (unchanged.restic.stored / full.restic.stored) * 100;
    target(s.name, 'unchanged: wall time bo/restic', unchanged.bo.m.ms / unchanged.restic.m.ms, 0.5, 'x');
    target(s.name, `unchanged: stored, % of the full (restic ${rpct.toFixed(2)} %)`, pct, 1, ' %');
    target(s.name, '1 % changed: wall time bo/restic', one.bo.m.ms / one.restic.m.ms, 1, 'x');
  }
  console.log(`\nchanges (seeded): ${ctx.mutations.join('; ')}`);
  const kinds = setups.flatMap((s) => s.results.map((r) => r.bo.kind!));
  console.log(
    kinds.some((k) => k.startsWith('incremental'))
      ? '\nbo made incremental backups (manifest chain.type = incremental).'
      : '\nbo made a full every run (manifest chain = null or type full): no incremental backups measured.',
  );
  console.log(
    'setups: ssh = bo reads the tree through the loopback sshd into a local repository; restic, which is not\n' +
      'agentless, reads it locally and writes its repository over SFTP through the same sshd. local = bo with\n' +
      'host: local, restic into a local repository. s3 = both into moto, bo over the sshd, restic locally.\n' +
      'wall: start to exit. CPU: user + system seconds of the whole process tree (bo with host: local includes\n' +
      'its tar and zstd; restic over SFTP its ssh client). server: CPU seconds of the sshd and everything its\n' +
      'sessions ran meanwhile (for bo, tar and zstd; for restic, the SFTP server). RSS: peak resident set of\n' +
      'the largest process. stored: growth of the repository directory or bucket.',
  );
}

function cells(r: Run): string {
  const s = (x: number) => `${x.toFixed(1).padStart(6)} s`;
  const rss = `${(r.m.peakRss / 2 ** 20).toFixed(0).padStart(4)} MiB`;
  const server = r.remote ? s(r.m.serverCpuSeconds) : '       -';
  return `${s(r.m.ms / 1000)} ${s(r.m.cpuSeconds)} ${server} ${rss} ${size(r.stored).padStart(10)}`;
}

function size(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`;
}

function target(setup: string, what: string, value: number, limit: number, unit: string): void {
  const v = unit === 'x' ? `${value.toFixed(2)}x` : `${value.toFixed(2)} %`;
  const t = unit === 'x' ? `${limit}x` : `${limit} %`;
  const verdict = value <= limit ? 'met' : 'MISSED';
  console.log(
    `  ${setup.padEnd(6)} ${what.padEnd(48)} ${v.padStart(9)}  target <= ${t.padEnd(5)} ${verdict}`,
  );
}

function boVersion(repoRoot: string): string {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  try {
    const git = (...a: string[]) => execFileSync('git', ['-C', repoRoot, ...a], { encoding: 'utf8' }).trim();
    const dirty = git('status', '--porcelain', '--untracked-files=no') ? ', uncommitted changes' : '';
    return `${pkg.version} (${git('rev-parse', '--abbrev-ref', 'HEAD')} ${git('rev-parse', '--short', 'HEAD')}${dirty})`;
  } catch {
    return pkg.version;
  }
}

/** Which code bin/bo runs: dist/ when it is at least as new as every source file (as bin/bo decides). */
function boEntry(repoRoot: string): string {
  const dist = join(repoRoot, 'dist', 'cli', 'main.js');
  if (!existsSync(dist)) return 'from src/';
  const built = statSync(dist).mtimeMs;
  const newer = readdirSync(join(repoRoot, 'src'), { recursive: true, withFileTypes: true }).some(
    (e) => e.isFile() && statSync(join(e.parentPath, e.name)).mtimeMs > built,
  );
  return newer ? 'from src/ (dist/ is older: ~20 MB more RSS)' : 'from dist/';
}

function resticVersion(): string {
  return execFileSync('restic', ['version'], { encoding: 'utf8' }).split(' compiled')[0]!.trim();
}
