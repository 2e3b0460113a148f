import { describe, expect, it } from 'vitest';
import { BoError, UsageError } from '../../../src/errors.ts';
import {
  assertUsableTar,
  classifyTarResult,
  parseCaps,
  parseExitMarkers,
  parsePathCheck,
  pathCheckCommand,
  probeCommand,
  type TarCaps,
  tarCreateCommand,
  tarExtractCommand,
} from '../../../src/plan/tar.ts';

const CAPS: TarCaps = {
  gnuTar: true,
  version: '1.34',
  posix: true,
  sparse: true,
  acls: true,
  xattrs: true,
  zstd: true,
  gzip: true,
  split: true,
  root: true,
  uid: 0,
};
const BARE: TarCaps = { ...CAPS, acls: false, xattrs: false, sparse: false, zstd: false, gzip: false };
const base = {
  exclude: [],
  oneFileSystem: false,
  compression: 'none' as const,
  compressRemotely: false,
  caps: CAPS,
};
const TAR =
  "LC_ALL=C tar -c -f - --format=posix --sparse --acls --xattrs '--xattrs-include=*' --warning=no-file-ignored";
const MARK = 's=$?; echo "bo-tar-exit=$s" >&2; exit $s';

describe('tarCreateCommand', () => {
  it('archives relative member names under -C / with all the fidelity options', () => {
    expect(tarCreateCommand({ ...base, paths: ['/srv/share/', '/etc'] })).toBe(
      `${TAR} --wildcards --no-wildcards-match-slash --no-wildcards -C / -- srv/share etc; ${MARK}`,
    );
  });

  it('leaves out options the server tar lacks and adds --one-file-system on request', () => {
    expect(tarCreateCommand({ ...base, caps: BARE, oneFileSystem: true, paths: ['/srv'] })).toBe(
      `LC_ALL=C tar -c -f - --format=posix --one-file-system --warning=no-file-ignored --wildcards --no-wildcards-match-slash --no-wildcards -C / -- srv; ${MARK}`,
    );
  });

  it('drops paths inside other paths and duplicates', () => {
    const cmd = tarCreateCommand({
      ...base,
      paths: ['/srv/share', '/srv', '/etc', '/etc/', '/srv//share/x'],
    });
    expect(cmd).toContain('-C / -- srv etc;');
  });

  it('quotes hostile path names for sh', () => {
    const cmd = tarCreateCommand({ ...base, paths: ["/srv/it's $(rm -rf /)"] });
    expect(cmd).toContain(`-- 'srv/it'\\''s $(rm -rf /)';`);
  });

  it('anchors absolute excludes at the root and lets relative globs match at any depth', () => {
    const cmd = tarCreateCommand({
      ...base,
      paths: ['/srv'],
      exclude: ['/srv/share/cache/', '*.tmp', 'node_modules', '/srv/*/tmp'],
    });
    expect(cmd).toContain(
      "--wildcards --no-wildcards-match-slash --anchored --exclude=srv/share/cache '--exclude=srv/*/tmp' " +
        "--no-anchored '--exclude=*.tmp' --exclude=node_modules --no-wildcards -C / -- srv;",
    );
  });

  it('archives / as ./ with names stripped of ./, and anchors excludes on ./', () => {
    const cmd = tarCreateCommand({ ...base, paths: ['/', '/etc'], exclude: ['/proc', '/var/cache'] });
    expect(cmd).toContain(
      "'--transform=s,^\\./,,S' --wildcards --no-wildcards-match-slash --anchored --exclude=./proc --exclude=./var/cache --no-wildcards -C / -- .;",
    );
  });

  it('reads a snapshot from its mount point and archives it under the original path', () => {
    const cmd = tarCreateCommand({
      ...base,
      paths: ['/srv/share', '/etc'],
      exclude: ['/srv/share/cache', '*.tmp'],
      transform: [{ from: '/mnt/snap', to: '/srv' }],
    });
    expect(cmd).toContain(
      "'--transform=s,^mnt/snap\\(/\\|$\\),srv\\1,S' --wildcards --no-wildcards-match-slash " +
        "--anchored --exclude=mnt/snap/share/cache --no-anchored '--exclude=*.tmp' --no-wildcards -C / -- mnt/snap/share etc;",
    );
  });

  it('maps a snapshot of the root volume to the archive root', () => {
    const cmd = tarCreateCommand({ ...base, paths: ['/'], transform: [{ from: '/mnt/snap', to: '/' }] });
    expect(cmd).toContain("'--transform=s,^mnt/snap$,.,S' '--transform=s,^mnt/snap/,,S'");
    expect(cmd).toContain('-- mnt/snap;');
  });

  it('escapes regex and replacement characters in transforms and picks a free delimiter', () => {
    const cmd = tarCreateCommand({
      ...base,
      paths: ['/a,b/x'],
      transform: [{ from: '/snap.1', to: '/a,b' }],
    });
    expect(cmd).toContain("'--transform=s#^snap\\.1\\(/\\|$\\)#a,b\\1#S'");
  });

  it('pipes into the server compressor with both exit statuses reported', () => {
    expect(tarCreateCommand({ ...base, paths: ['/srv'], compression: 'zstd', compressRemotely: true })).toBe(
      `( ${TAR} --wildcards --no-wildcards-match-slash --no-wildcards -C / -- srv; echo "bo-tar-exit=$?" >&2 ) | ` +
        'zstd -q -c -3 -T0; s=$?; echo "bo-zstd-exit=$s" >&2; exit $s',
    );
    const gz = tarCreateCommand({
      ...base,
      paths: ['/srv'],
      compression: 'gzip',
      level: 9,
      compressRemotely: true,
    });
    expect(gz).toMatch(/\) \| gzip -c -n -9; s=\$\?; echo "bo-gzip-exit=\$s" >&2; exit \$s$/);
    const ultra = tarCreateCommand({
      ...base,
      paths: ['/srv'],
      compression: 'zstd',
      level: 22,
      compressRemotely: true,
    });
    expect(ultra).toContain('zstd -q -c --ultra -22 -T0');
  });

  it('leaves compression to bo when not compressing remotely', () => {
    const cmd = tarCreateCommand({ ...base, paths: ['/srv'], compression: 'zstd', compressRemotely: false });
    expect(cmd).not.toContain('zstd');
  });

  it('refuses bad input', () => {
    expect(() => tarCreateCommand({ ...base, paths: [] })).toThrow(UsageError);
    expect(() => tarCreateCommand({ ...base, paths: ['srv'] })).toThrow(/must be absolute/);
    expect(() => tarCreateCommand({ ...base, paths: ['/srv/../etc'] })).toThrow(/\.\./);
    expect(() => tarCreateCommand({ ...base, paths: ['/srv'], exclude: ['/'] })).toThrow(/exclude/);
    expect(() =>
      tarCreateCommand({ ...base, paths: ['/srv'], compression: 'zstd', level: 30, compressRemotely: true }),
    ).toThrow(/level/);
    expect(() =>
      tarCreateCommand({ ...base, caps: BARE, paths: ['/srv'], compression: 'zstd', compressRemotely: true }),
    ).toThrow(BoError);
    expect(() =>
      tarCreateCommand({
        ...base,
        paths: ['/srv'],
        transform: [
          { from: '/mnt/a', to: '/srv' },
          { from: '/srv/x', to: '/opt' },
        ],
      }),
    ).toThrow(/overlap/);
  });
});

describe('tarExtractCommand', () => {
  it('restores owners numerically as root, with xattrs and ACLs', () => {
    expect(tarExtractCommand({ dir: '/restore/here', asRoot: true, caps: CAPS })).toBe(
      "mkdir -p -- /restore/here && { LC_ALL=C tar -x -f - -C /restore/here -p --same-owner --numeric-owner --xattrs '--xattrs-include=*' --acls --no-overwrite-dir; " +
        `${MARK}; }`,
    );
  });

  it('does not try to restore owners as a user, and can decompress and select members', () => {
    expect(
      tarExtractCommand({
        dir: '/tmp/r x',
        asRoot: false,
        caps: BARE,
        compression: 'zstd',
        paths: ['/srv/share/', 'etc'],
      }),
    ).toBe(
      'mkdir -p -- \'/tmp/r x\' && { ( zstd -d -q -c; echo "bo-zstd-exit=$?" >&2 ) | ' +
        "LC_ALL=C tar -x -f - -C '/tmp/r x' -p --no-same-owner --no-overwrite-dir -- srv/share etc; " +
        `${MARK}; }`,
    );
  });

  it('needs an absolute directory', () => {
    expect(() => tarExtractCommand({ dir: 'rel', asRoot: true, caps: CAPS })).toThrow(UsageError);
  });
});

describe('probe', () => {
  it('is one command line', () => {
    expect(probeCommand()).not.toContain('\n');
  });

  it('parses a GNU tar server', () => {
    const out =
      'bo-probe=1\nuid=0\ntar=tar (GNU tar) 1.34\nposix=1\nsparse=1\nacls=1\nxattrs=0\nzstd=1\ngzip=1\nsplit=1\n';
    expect(parseCaps(out)).toEqual({ ...CAPS, xattrs: false });
  });

  it('parses a busybox server as not GNU', () => {
    const out = 'bo-probe=1\nuid=1000\ntar=\nposix=0\nsparse=0\nacls=0\nxattrs=0\nzstd=0\ngzip=1\n';
    const caps = parseCaps(out);
    expect(caps).toMatchObject({ gnuTar: false, root: false, uid: 1000, gzip: true, zstd: false });
    expect(() => assertUsableTar(caps, 'files1')).toThrow(/files1 has no GNU tar/);
  });

  it('refuses a tar older than 1.27 and output that is not the probe', () => {
    expect(() => assertUsableTar({ ...CAPS, version: '1.26' }, 'old1')).toThrow(/too old/);
    expect(() => assertUsableTar(CAPS, 'ok')).not.toThrow();
    expect(() => parseCaps('Welcome to files1\n')).toThrow(/capability probe/);
  });
});

describe('path check', () => {
  it('quotes every path', () => {
    expect(pathCheckCommand(['/srv', "/it's"])).toContain(`for p in /srv '/it'\\''s'; do`);
  });

  it('reports missing and unreadable paths by name, even with newlines in them or a banner before', () => {
    const out = 'Welcome!\nbo-path missing /srv\0bo-path ok /etc\0bo-path unreadable /root/a\nb\0';
    expect(parsePathCheck(out)).toEqual([
      { path: '/srv', problem: 'does not exist' },
      { path: '/root/a\nb', problem: 'is not readable' },
    ]);
  });

  it('reports paths the output does not mention when the list is given', () => {
    expect(parsePathCheck('bo-path ok /srv\0', ['/srv', '/etc'])).toEqual([
      { path: '/etc', problem: 'could not be checked' },
    ]);
  });
});

// stderr captured from GNU tar 1.34 running the commands above (see tests/integration/archive).
const STDERR = {
  missing:
    'tar: srv/nope: Cannot stat: No such file or directory\ntar: Exiting with failure status due to previous errors\nbo-tar-exit=2\nbo-zstd-exit=0\n',
  denied:
    'tar: srv/priv: Cannot open: Permission denied\ntar: srv/sock: socket ignored\ntar: Exiting with failure status due to previous errors\nbo-tar-exit=2\nbo-zstd-exit=0\n',
  changed: 'tar: srv/d/big: file changed as we read it\nbo-tar-exit=1\nbo-zstd-exit=0\n',
  dirChanged: 'tar: srv/r: file changed as we read it\nbo-tar-exit=1\n',
  zstdFailed: 'Incorrect parameters\nbo-tar-exit=141\nbo-zstd-exit=1\n',
  readerGone: 'bo-tar-exit=141\n',
  ok: 'bo-tar-exit=0\nbo-zstd-exit=0\n',
};

describe('exit markers and classification', () => {
  it('parses markers out of stderr', () => {
    expect(parseExitMarkers(STDERR.changed)).toEqual({
      tar: 1,
      compressor: { name: 'zstd', code: 0 },
      lines: ['tar: srv/d/big: file changed as we read it'],
    });
    expect(parseExitMarkers('noise\n')).toEqual({ tar: undefined, compressor: undefined, lines: ['noise'] });
  });

  it('0 is success', () => {
    expect(classifyTarResult({ stderr: STDERR.ok })).toEqual({ ok: true, warnings: [] });
  });

  it('1 (files changed while read) is success with the warnings', () => {
    expect(classifyTarResult({ stderr: STDERR.changed })).toEqual({
      ok: true,
      warnings: ['srv/d/big: file changed as we read it'],
    });
    expect(classifyTarResult({ stderr: STDERR.dirChanged }).ok).toBe(true);
  });

  it('2 is a failure naming the problem', () => {
    const v = classifyTarResult({ stderr: STDERR.missing });
    expect(v).toEqual({
      ok: false,
      message: 'tar reported errors: srv/nope: Cannot stat: No such file or directory',
      warnings: ['srv/nope: Cannot stat: No such file or directory'],
    });
    expect(classifyTarResult({ stderr: STDERR.denied })).toMatchObject({
      ok: false,
      message: 'tar reported errors: srv/priv: Cannot open: Permission denied; srv/sock: socket ignored',
    });
  });

  it('a failing compressor fails the backup, and is blamed rather than tar’s SIGPIPE', () => {
    expect(classifyTarResult({ stderr: STDERR.zstdFailed })).toMatchObject({
      ok: false,
      message: 'zstd failed on the server (exit 1): Incorrect parameters',
    });
  });

  it('tar killed by SIGPIPE or without a marker is a failure', () => {
    expect(classifyTarResult({ stderr: STDERR.readerGone })).toMatchObject({ ok: false, message: /SIGPIPE/ });
    expect(classifyTarResult({ stderr: '', exit: { code: null, signal: 'SIGKILL' } })).toMatchObject({
      ok: false,
      message: 'tar did not report its exit status (command killed by SIGKILL)',
    });
  });

  it('on extraction, tar failing is blamed rather than the decompressor’s SIGPIPE', () => {
    const stderr = 'tar: Unexpected EOF in archive\nbo-zstd-exit=141\nbo-tar-exit=2\n';
    expect(classifyTarResult({ stderr })).toMatchObject({
      ok: false,
      message: 'tar reported errors: Unexpected EOF in archive',
    });
  });
});
