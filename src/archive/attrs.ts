/**
 * Extended attributes, POSIX ACLs and file capabilities on a local restore, as GNU tar's
 * `--xattrs --acls` applies them. Node has no xattr API, so bo hands them to `setfattr` (Debian
 * package `attr`) in one batch, in the dump format `getfattr -d` writes and `setfattr --restore`
 * reads, with `-h` so no symlink is ever followed; ACLs that tar stored only as text go to
 * `setfacl --restore` (package `acl`). One process for the whole restore, not one per file.
 *
 * They are applied last, after every file's content, owner and mode: writing a file or changing
 * its owner clears its capabilities, and an ACL sets the group bits of the mode. Binary ACLs
 * (system.posix_acl_*, numeric ids) are preferred to the text form, which names users and groups
 * that may not exist where the restore runs. Without root, only user.* attributes and ACLs of
 * files the restoring user owns can be set: trusted.* and security.* are not tried, and every
 * attribute not applied is reported, per file.
 */
import { spawn } from 'node:child_process';

export interface EntryAttrs {
  /** Extended attributes with their values (binary ACLs and capabilities included). */
  xattrs: ReadonlyArray<readonly [string, Buffer]>;
  /** ACLs as text (GNU tar's SCHILY.acl.*), used when there is no binary system.posix_acl_*. */
  acl?: { access?: string | undefined; default?: string | undefined } | undefined;
}

/** Applies `attrs` (relative paths under `root`); resolves with one warning per thing not applied. */
export async function applyAttrs(
  root: string,
  attrs: ReadonlyMap<string, EntryAttrs>,
  opts: { asRoot: boolean; signal?: AbortSignal | undefined },
): Promise<string[]> {
  const warnings: string[] = [];
  let xattrDump = '';
  let aclDump = '';
  const skipped = new Map<string, string[]>();
  for (const [rel, a] of attrs) {
    const lines: string[] = [];
    for (const [name, value] of a.xattrs) {
      if (!opts.asRoot && /^(trusted|security)\./.test(name)) {
        skipped.set(rel, [...(skipped.get(rel) ?? []), name]);
        continue;
      }
      lines.push(`${name}=0s${value.toString('base64')}`);
    }
    if (lines.length) xattrDump += `# file: ${escapePath(rel)}\n${lines.join('\n')}\n\n`;
    // The text form only when tar stored no binary ACL: `setfacl --restore` sets the whole ACL
    // (a block without default entries removes the default ACL), and a trivial access ACL is
    // just the mode, already set.
    const binary = a.xattrs.some(([n]) => n.startsWith('system.posix_acl_'));
    const access = aclLines(a.acl?.access ?? '', '');
    const text = [...(access.length > 3 ? access : []), ...aclLines(a.acl?.default ?? '', 'default:')];
    if (!binary && text.length) aclDump += `# file: ${escapePath(rel)}\n${text.join('\n')}\n\n`;
  }
  for (const [rel, names] of skipped)
    warnings.push(`/${rel}: ${names.join(', ')} not applied (only root can set them)`);
  if (xattrDump)
    warnings.push(...(await run('setfattr', ['-h', '--restore=-'], xattrDump, root, 'attr', opts.signal)));
  if (aclDump) warnings.push(...(await run('setfacl', ['--restore=-'], aclDump, root, 'acl', opts.signal)));
  return warnings;
}

/** "user::rw-\nuser:bob:r--\n…" (GNU tar's form, newline or comma separated) as setfacl lines. */
function aclLines(text: string, prefix: string): string[] {
  return text
    .split(/[\n,]/)
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => `${prefix}${l}`);
}

/** A path in getfattr's dump format: control characters, backslash and non-ASCII as \ooo. */
export function escapePath(rel: string): string {
  let out = '';
  for (const byte of Buffer.from(rel)) {
    out +=
      byte < 0x20 || byte === 0x5c || byte >= 0x7f
        ? `\\${byte.toString(8).padStart(3, '0')}`
        : String.fromCharCode(byte);
  }
  return out;
}

/** Runs one of the tools on `dump`; its complaints (per file) become warnings. */
function run(
  tool: string,
  args: string[],
  dump: string,
  cwd: string,
  pkg: string,
  signal: AbortSignal | undefined,
): Promise<string[]> {
  return new Promise((resolve) => {
    const child = spawn(tool, args, { cwd, stdio: ['pipe', 'ignore', 'pipe'], signal });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 1_000_000) stderr += d.toString();
    });
    child.stdin.on('error', () => {}); // the tool exited early: its status says why
    child.on('error', (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'ENOENT' ? `${tool} is not installed (Debian/Ubuntu package ${pkg})` : err.message;
      resolve([`extended attributes and ACLs were not applied: ${why}`]);
    });
    child.on('close', (code) => {
      const lines = stderr
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .map((l) => l.replace(new RegExp(`^${tool}: `), '').replace(/^\.?\/?/, '/'));
      if (code !== 0 && lines.length === 0) lines.push(`${tool} exited ${code}`);
      resolve(lines.map((l) => `not applied: ${l}`));
    });
    child.stdin.end(dump);
  });
}
