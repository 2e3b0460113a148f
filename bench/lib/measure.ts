import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Measured {
  ms: number;
  code: number | null;
  /** Peak resident set size (VmHWM) of the main process, in bytes. */
  peakRss: number;
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

/** Runs a command, sampling its peak RSS (VmHWM is a high-water mark, so sampling loses little). */
export function measure(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let peak = 0;
    const timer = setInterval(() => {
      peak = Math.max(peak, vmHwm(child.pid!));
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
      resolve({ ms: performance.now() - start, code, peakRss: peak, stdout, stderr });
    });
  });
}

export const MB = 1e6;
export function mbps(bytes: number, ms: number): string {
  return (((bytes / MB) * 1000) / ms).toFixed(1);
}
