/**
 * The systemd unit `bo daemon --print-unit` writes: the template filled with this
 * installation's paths, the memory options taken from bin/bo's shebang (one copy for the CLI and
 * the service), and paths quoted the way systemd reads them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseShebang, renderUnit, systemdQuote, systemdUnit } from '../../../src/daemon/unit.ts';

const SHEBANG = readFileSync(new URL('../../../bin/bo', import.meta.url), 'utf8').split('\n', 1)[0]!;
const TEMPLATE = readFileSync(new URL('../../../systemd/bo.service.in', import.meta.url), 'utf8');

describe('the systemd unit', () => {
  it("takes bin/bo's memory options: the same for the CLI and the service", () => {
    expect(parseShebang(SHEBANG)).toEqual({
      env: ['MALLOC_MMAP_THRESHOLD_=262144'],
      nodeOptions: ['--max-semi-space-size=2', '--initial-old-space-size=64'],
    });
    expect(() => parseShebang('#!/bin/sh')).toThrow(/not a node shebang/);
  });

  it('names the Node and the bo given, leaves no placeholder, keeps the hardening', () => {
    const unit = renderUnit(TEMPLATE, SHEBANG, {
      node: '/opt/node 24/bin/node',
      bo: '/usr/lib/node_modules/bo-backoffice/bin/bo',
      config: '/etc/bo/bo.yaml',
      readme: '/usr/lib/node_modules/bo-backoffice/README.md',
    });
    expect(unit).toContain('\nEnvironment=MALLOC_MMAP_THRESHOLD_=262144\n');
    expect(unit).toContain(
      '\nExecStart="/opt/node 24/bin/node" --max-semi-space-size=2 --initial-old-space-size=64 /usr/lib/node_modules/bo-backoffice/bin/bo --config /etc/bo/bo.yaml daemon\n',
    );
    expect(unit).toContain('\nDocumentation=file:///usr/lib/node_modules/bo-backoffice/README.md\n');
    expect(unit).not.toMatch(/@[A-Z_]+@/);
    for (const line of [
      'Type=notify',
      'ProtectSystem=strict',
      'User=bo',
      'ExecReload=/bin/kill -HUP $MAINPID',
    ])
      expect(unit).toContain(`\n${line}\n`);
  });

  it('quotes words as systemd reads them', () => {
    expect(systemdQuote('/usr/bin/node')).toBe('/usr/bin/node');
    expect(systemdQuote('/srv/a b')).toBe('"/srv/a b"');
    expect(systemdQuote('/srv/100%/$HOME')).toBe('/srv/100%%/$$HOME');
    expect(systemdQuote('/srv/"q"\\')).toBe('"/srv/\\"q\\"\\\\"');
  });

  it('for this checkout: the running Node, its bin/bo, an absolute config path', () => {
    const unit = systemdUnit('relative/bo.yaml');
    const exec = /^ExecStart=(\S+) .* (\S+) --config (\S+) daemon$/m.exec(unit)!;
    expect(exec[1]).toBe(process.execPath);
    expect(exec[2]).toMatch(/\/bin\/bo$/);
    expect(exec[3]).toBe(`${process.cwd()}/relative/bo.yaml`);
  });
});
