/** A backup job's `dumps:`: database dumps streamed beside the archive (src/jobs/dumps.ts). */
import { z } from 'zod';
import { unknownTag } from '../messages.ts';
import type { Resolved } from '../resolve-secrets.ts';
import { Name, Secret } from './common.ts';

const DumpClient = {
  name: Name.optional().describe('Names the object dump-<name>.sql…; default the database name, or "all"'),
  database: z
    .string()
    .min(1)
    .optional()
    .describe('Database to dump; omitted: every database (pg_dumpall, mysqldump --all-databases)'),
  hostname: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Database server: an address, or a unix socket (PostgreSQL: its directory; MySQL: the socket file); default the local socket',
    ),
  port: z.int().min(1).max(65535).optional(),
  username: z.string().min(1).optional().describe('Database user to connect as'),
  password: Secret.optional().describe('Handed to the client on stdin, never on a command line'),
  runAs: z
    .string()
    .regex(/^[a-z_][a-z0-9_.-]*$/i, 'a user name')
    .optional()
    .describe(
      'OS user the client runs as (runuser -u), e.g. postgres for peer authentication; needs root or sudo',
    ),
  bin: z
    .string()
    .min(1)
    .optional()
    .describe('Directory of the client programs, e.g. /usr/lib/postgresql/15/bin'),
  options: z.array(z.string()).default([]).describe('Extra arguments for pg_dump / pg_dumpall / mysqldump'),
};

export const PostgresDump = z.strictObject({ type: z.literal('postgres'), ...DumpClient });
export const MysqlDump = z.strictObject({ type: z.literal('mysql'), ...DumpClient });
export const CommandDump = z.strictObject({
  type: z.literal('command'),
  name: Name.describe('Names the object dump-<name>.sql…'),
  command: z
    .string()
    .min(1)
    .describe('Shell command on the host writing the dump to stdout; a non-zero exit fails the backup'),
  restore: z
    .string()
    .min(1)
    .optional()
    .describe('Shell command reading a dump on stdin, for `bo restore --dump NAME --to-host`'),
});
export const Dump = z.discriminatedUnion('type', [PostgresDump, MysqlDump, CommandDump], {
  error: unknownTag('dump type'),
});
export type Dump = Resolved<z.infer<typeof Dump>>;

/** What names a dump (resolved or not: the schema checks the names before secrets are read). */
type DumpNaming =
  | { type: 'command'; name: string }
  | { type: 'postgres' | 'mysql'; name?: string | undefined; database?: string | undefined };

/** A dump's object name part: its `name`, else its database, else "all". */
export function dumpName(d: DumpNaming): string {
  return d.type === 'command' ? d.name : (d.name ?? d.database ?? 'all');
}

export const Dumps = z
  .array(Dump)
  .default([])
  .superRefine(
    (dumps, ctx) => {
      if (!Array.isArray(dumps)) return; // `when` runs this after the list itself was rejected too
      // Entries that failed are left out, unless only fields the name does not depend on failed.
      const named = (i: number) =>
        !ctx.issues.some(
          (iss) =>
            iss.code !== 'unrecognized_keys' &&
            iss.path?.[0] === i &&
            (iss.path.length === 1 || ['type', 'name', 'database'].includes(String(iss.path[1]))),
        );
      const seen = new Set<string>();
      dumps.forEach((d, i) => {
        if (!named(i)) return;
        const n = dumpName(d);
        if (!Name.safeParse(n).success) {
          ctx.addIssue({
            code: 'custom',
            path: [i, 'name'],
            message: `database "${n}" is not usable as an object name: give a name`,
          });
        } else if (seen.has(n)) {
          ctx.addIssue({
            code: 'custom',
            path: [i, 'name'],
            message: `two dumps are named "${n}": give each a distinct name`,
          });
        }
        seen.add(n);
      });
    },
    { when: () => true },
  )
  .describe('Database dumps run on the host and streamed into their own objects beside the archive');
