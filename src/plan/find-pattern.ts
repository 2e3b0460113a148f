/**
 * The patterns of `bo find` (pure): shell globs over archive paths, where `*` and `?` never match
 * `/` and `**` matches any number of directories.
 *
 * - starting with `/`: anchored at the root (`/srv/mail/alice/cur/*`);
 * - otherwise matched against the end of the path, at any depth (`*.xlsx`, `alice/cur/*`);
 * - an entry also matches when a directory above it does, so `/srv/mail/alice` finds every file
 *   below it.
 */
import { UsageError } from '../errors.ts';

export type PathMatcher = (path: string) => boolean;

export function findPattern(pattern: string): PathMatcher {
  const p = pattern.trim().replace(/\/+$/, '');
  if (p === '' || p === '/') throw new UsageError('bo find needs a pattern, e.g. "/srv/share/*.xlsx"');
  const anchored = p.startsWith('/');
  const re = new RegExp(`${anchored ? '^' : '(^|/)'}${globToRegex(p.replace(/^\/+/, ''))}$`);
  return (path) => {
    // The path itself, or one of the directories above it.
    for (let cut = path.length; cut > 0; cut = path.lastIndexOf('/', cut - 1)) {
      if (re.test(path.slice(0, cut))) return true;
    }
    return false;
  };
}

function globToRegex(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` matches zero or more directories; `**` alone anything.
      if (glob[i + 2] === '/') {
        out += '(?:.*/)?';
        i += 2;
      } else {
        out += '.*';
        i++;
      }
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) out += '\\[';
      else {
        const body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        out += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
        i = end;
      }
    } else out += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return out;
}
