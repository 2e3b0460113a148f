import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.ts';
import { EXAMPLE_CONFIG } from '../../../src/config/locate.ts';

describe('config/bo.example.yaml', () => {
  it('is valid and backs up a local directory into a local repository', () => {
    const config = parseConfig(readFileSync(EXAMPLE_CONFIG, 'utf8'), EXAMPLE_CONFIG);
    const jobs = Object.values(config.jobs);
    expect(jobs.length).toBeGreaterThan(0);
    for (const job of jobs) {
      if (job.kind !== 'backup') continue;
      expect(job.host).toBe('local');
      expect(config.storage[job.storage]?.type).toBe('filesystem');
    }
  });
});
