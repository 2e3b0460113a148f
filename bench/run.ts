/**
 * `npm run bench [-- NAME...]`: runs the benchmarks one after another, each printing its
 * figures beside a baseline measured in the same run. Benchmarks are scripts, never tests.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

// Measure what an installed bo runs: the compiled dist/, not src/ through type stripping (which
// bin/bo falls back to when a source file is newer, at ~20 MB more RSS).
const build = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
if (build.status !== 0) console.log('# dist/ not rebuilt: bo runs from src/, its RSS is ~20 MB higher');

const ALL = [
  'backup',
  'incremental',
  'restore',
  'age',
  'ssh',
  'tar',
  's3-upload',
  'scheduler',
  'cluster',
  'prune',
  'fleet-history',
  'health',
  'consistency',
];
const chosen = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = chosen.length ? chosen : ALL;
let failed = 0;
for (const name of names) {
  const file = new URL(`./${name}.ts`, import.meta.url);
  if (!existsSync(file)) {
    console.log(`\n## ${name}: not available`);
    continue;
  }
  console.log(`\n## ${name}`);
  const r = spawnSync(process.execPath, [file.pathname], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(`## ${name} failed (exit ${r.status})`);
  }
}
process.exitCode = failed ? 1 : 0;
