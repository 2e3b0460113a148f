import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';

export interface Measured {
  ms: number;
  code: number | null;
  /** Peak resident set size (VmHWM) of the main process (`tree`: of its largest process), in bytes. */
  peakRss: number;
  /** CPU seconds (user + system) of the main process, sampled every 50 ms (`tree`: of all, exact). */
  cpuSeconds: number;
  /** Busy CPU seconds of the whole machine while it ran (every process, bo's servers included). */
  machineCpuSeconds: number;
  /** With `opts.server`: CPU seconds its process tree (e.g. an sshd and its sessions) used meanwhile. */
  serverCpuSeconds: number;
  stdout: string;
  stderr: string;
}

function vmHwm(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** utime + stime of a process in seconds (clock ticks are 1/100 s on Linux). */
function cpuOf(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

/** Busy (non-idle, non-iowait) CPU seconds of the machine since boot. */
export function machineBusySeconds(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return (f.reduce((a, b) => a + b, 0) - idle) / 100;
}

export interface MeasureOptions {
  /**
   * Count the command's whole process tree: CPU seconds of every descendant it waited for (exact,
   * from the shell's `times`), and as peak RSS the largest process's (VmHWM of each, sampled).
   */
  tree?: boolean;
  /** A process (e.g. an sshd) whose tree's CPU seconds during the run go into serverCpuSeconds. */
  server?: number;
}

/** `sh` runs the command and then writes its children's CPU times (user, system) to fd 3. */
const TIMES = '"$@"; s=$?; times >&3; exit $s';

/** Runs a command, sampling its peak RSS (VmHWM is a high-water mark, so sampling loses little). */
export function measure(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  opts: MeasureOptions = {},
): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const busy0 = machineBusySeconds();
    const server0 = opts.server ? treeCpu(opts.server) : 0;
    const child = opts.tree
      ? spawn('/bin/sh', ['-c', TIMES, 'sh', cmd, ...args], {
          env,
          stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
        })
      : spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let peak = 0;
    let cpu = 0;
    const sample = () => {
      if (!opts.tree) {
        peak = Math.max(peak, vmHwm(child.pid!));
        cpu = Math.max(cpu, cpuOf(child.pid!));
        return;
      }
      for (const pid of descendants(child.pid!)) peak = Math.max(peak, vmHwm(pid));
    };
    const timer = setInterval(sample, opts.tree ? 100 : 50);
    let stdout = '';
    let stderr = '';
    let times = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d));
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    child.stdio[3]?.on('data', (d: Buffer) => (times += d));
    child.on('error', reject);
    child.on('exit', () => {
      if (!opts.tree) peak = Math.max(peak, vmHwm(child.pid!));
    });
    child.on('close', (code) => {
      clearInterval(timer);
      const machineCpuSeconds = machineBusySeconds() - busy0;
      resolve({
        ms: performance.now() - start,
        code,
        peakRss: peak,
        cpuSeconds: opts.tree ? childrenTimes(times) : cpu,
        machineCpuSeconds,
        serverCpuSeconds: opts.server ? treeCpu(opts.server) - server0 : 0,
        stdout,
        stderr,
      });
    });
  });
}

/** The second line of `times` (children's user and system time, "0m1.230000s 0m0.450000s"), summed. */
function childrenTimes(out: string): number {
  const line = out.trim().split('\n')[1] ?? '';
  let s = 0;
  for (const m of line.matchAll(/(\d+)m([\d.]+)s/g)) s += Number(m[1]) * 60 + Number(m[2]);
  return s;
}

/** ppid and utime + stime + cutime + cstime (seconds) of every process, from /proc. */
function processTable(): Map<number, { ppid: number; cpu: number }> {
  const table = new Map<number, { ppid: number; cpu: number }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cpu = (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
      table.set(Number(name), { ppid: Number(f[1]), cpu });
    } catch {
      // The process exited while the table was read.
    }
  }
  return table;
}

/** `root` and every live process below it. */
function descendants(root: number, table = processTable()): number[] {
  const out = [root];
  for (let i = 0; i < out.length; i++) {
    for (const [pid, p] of table) if (p.ppid === out[i]) out.push(pid);
  }
  return out.filter((pid) => table.has(pid));
}

/**
 * CPU seconds of a process tree so far: each live process's own time plus that of the children
 * it has reaped (cutime), so a session that ended is still counted, by its parent.
 */
function treeCpu(root: number): number {
  const table = processTable();
  return descendants(root, table).reduce((n, pid) => n + table.get(pid)!.cpu, 0);
}

export const MB = 1e6;
export function mbps(bytes: number, ms: number): string {
  return (((bytes / MB) * 1000) / ms).toFixed(1);
}

/** Pins a process tree, every thread, to `cpus` ("0", "1", "0,1"); children forked later inherit it. */
export function pinTree(root: number, cpus: string): void {
  for (const pid of descendants(root))
    execFileSync('taskset', ['-a', '-cp', cpus, String(pid)], { stdio: 'ignore' });
}

/**
 * The environment bo and the aws CLI run with in a benchmark: quiet logs, and the S3 server's
 * credentials both as the BENCH_KEY/BENCH_SECRET a bench config names and as the aws CLI's own.
 */
export function benchEnv(creds: { accessKeyId: string; secretAccessKey: string }): NodeJS.ProcessEnv {
  return {
    ...process.env,
    BO_LOG_LEVEL: 'warn',
    BENCH_KEY: creds.accessKeyId,
    BENCH_SECRET: creds.secretAccessKey,
    AWS_ACCESS_KEY_ID: creds.accessKeyId,
    AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
  };
}

/**
 * A client of a benchmark's S3 server. Checksums only where S3 requires them: the SDK's default
 * mode corrupts streamed objects on some S3-compatible servers.
 */
export function benchS3Client(
  endpoint: string,
  credentials: { accessKeyId: string; secretAccessKey: string },
): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
