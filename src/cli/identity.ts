import { readFileSync } from 'node:fs';
import { type AgeIdentity, parseIdentities } from '../archive/age/index.ts';
import { UsageError } from '../errors.ts';

/** Age identities from --identity files (or $BO_IDENTITY_FILE); undefined when none given. */
export function loadIdentities(
  files: string[] | undefined,
  env: NodeJS.ProcessEnv,
): AgeIdentity[] | undefined {
  const paths = files?.length ? files : env.BO_IDENTITY_FILE ? [env.BO_IDENTITY_FILE] : [];
  if (paths.length === 0) return undefined;
  return paths.flatMap((p) => {
    let text: string;
    try {
      text = readFileSync(p, 'utf8');
    } catch (err) {
      throw new UsageError(
        `cannot read identity file ${p} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    return parseIdentities(text);
  });
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
