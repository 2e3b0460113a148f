import { readFileSync } from 'node:fs';
import type { EvalContext, ProbeOutput } from '../../../src/health/check.ts';

/** A recorded command output from tests/fixtures/health. */
export function fx(name: string): string {
  return readFileSync(new URL(`../../fixtures/health/${name}`, import.meta.url), 'utf8');
}

export function out(stdout: string, code: number | null = 0, stderr = ''): ProbeOutput {
  return { stdout, stderr, code };
}

export const NOW = new Date('2025-11-22T08:00:00Z');

export function ctx(over: Partial<EvalContext> = {}): EvalContext {
  return { host: 'files1', now: NOW, history: () => [], ...over };
}
