import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.ts';
import { parseResolved } from '../../src/config/resolve-secrets.ts';
import { Config } from '../../src/config/schema.ts';
import { UsageError } from '../../src/errors.ts';
import { silentLogger } from '../../src/log.ts';
import { createServices } from '../../src/services.ts';

const services = (config: unknown) =>
  createServices({ config: parseResolved(Config, config), log: silentLogger(), clock: systemClock });

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('createServices', () => {
  it('an unknown storage name (bo locks --storage NAME) is a usage error naming the configured ones', async () => {
    const s = services({
      storage: { fs: { type: 'filesystem', path: '/srv/repo' }, fs2: { type: 'filesystem', path: '/r' } },
    });
    const err = thrown(() => s.storage('nosuch'));
    expect(err).toBeInstanceOf(UsageError);
    expect(err).toMatchObject({ message: 'unknown storage "nosuch"', hint: 'configured storage: fs, fs2' });
    expect(thrown(() => services({}).storage('x'))).toMatchObject({ hint: 'no storage is configured' });
    await s.close();
  });

  it('an unknown host name is a usage error naming the configured ones', () => {
    const s = services({ hosts: { files1: { address: '10.0.0.5', privateKey: '/k' } } });
    const err = thrown(() => s.host('nosuch'));
    expect(err).toBeInstanceOf(UsageError);
    expect(err).toMatchObject({ hint: 'configured hosts: files1' });
  });
});
