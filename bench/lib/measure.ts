import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Measured {
  ms: number;
  code: number | null;
  /** Peak resident set size (VmHWM) of the main process, in bytes. */
  peakRss: number;
  /** CPU seconds (user + system) of the main process, sampled every 50 ms. */
  cpuSeconds: number;
  /** Busy CPU seconds of the whole machine while it ran (every process, bo's servers included). */
  machineCpuSeconds: number;
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

/** Runs a command, sampling its peak RSS (VmHWM is a high-water mark, so sampling loses little). */
export function measure(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const busy0 = machineBusySeconds();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let peak = 0;
    let cpu = 0;
    const timer = setInterval(() => {
      peak = Math.max(peak, vmHwm(child.pid!));
      cpu = Math.max(cpu, cpuOf(child.pid!));
    }, 50);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('exit', () => {
      peak = Math.max(peak, vmHwm(child.pid!));
    });
    child.on('close', (code) => {
      clearInterval(timer);
      const machineCpuSeconds = machineBusySeconds() - busy0;
      resolve({
        ms: performance.now() - start,
        code,
        peakRss: peak,
        cpuSeconds: cpu,
        machineCpuSeconds,
        stdout,
        stderr,
      });
    });
  });
}

export const MB = 1e6;
export function mbps(bytes: number, ms: number): string {
  return (((bytes / MB) * 1000) / ms).toFixed(1);
}
