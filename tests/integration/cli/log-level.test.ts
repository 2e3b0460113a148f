import { describe, expect, it } from 'vitest';
import { runBo } from '../../fixtures/bo.ts';

describe('--log-level and $BO_LOG_LEVEL', () => {
  it('an unknown level is a usage error naming the valid ones, not a crash', async () => {
    const r = await runBo(['--log-level', 'loud', 'jobs']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^bo: unknown log level "loud" \(use one of trace, debug, info/);
    expect(r.stderr).not.toMatch(/at |pino/);
    const env = await runBo(['jobs'], { env: { BO_LOG_LEVEL: 'verbose' } });
    expect(env.code).toBe(2);
  });
  it('an empty $BO_LOG_LEVEL means the default', async () => {
    const r = await runBo(['jobs', '--json'], { env: { BO_LOG_LEVEL: '' } });
    expect(r.code).toBe(0);
  });
});
