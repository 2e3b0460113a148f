import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const dir = new URL('../../../src/notify/', import.meta.url);

/**
 * Ports sit low: the notifiers know events and alerts, not the jobs or the health checks that
 * send them (jobs/lifecycle.ts and health/ import notify/, never the other way round).
 */
describe('notify/ imports', () => {
  it('imports nothing from jobs/ or health/', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(3);
    const upward = files.flatMap((f) =>
      [...readFileSync(new URL(f, dir), 'utf8').matchAll(/\bfrom\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)]
        .map((m) => m[1] ?? m[2]!)
        .filter((spec) => /^\.\.\/(jobs|health)\//.test(spec))
        .map((spec) => `${f}: ${spec}`),
    );
    expect(upward).toEqual([]);
  });
});
