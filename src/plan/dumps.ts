/**
 * Database dump commands: what runs on the server to write a dump to stdout, and what reads one
 * back on stdin. Pure.
 *
 * Dumps are plain SQL (pg_dump --format=plain, mysqldump), so `psql`/`mysql` restore them and
 * so can a human without bo. The shell prints `bo-dump-exit=N` (and `bo-zstd-exit=N` when the
 * server compresses) on stderr: POSIX sh has no pipefail, and a dump that dies halfway after
 * writing output must still fail the backup. Passwords never appear on a command line: the
 * shell reads one line from stdin into PGPASSWORD / MYSQL_PWD before starting the client.
 */
import { compressionSuffix } from '../archive/compress.ts';
import { type Dump, dumpName } from '../config/schema.ts';
import { shellJoin } from './shell.ts';

export type DumpCompression = 'zstd' | 'gzip' | 'none';

export interface DumpPlan {
  name: string;
  type: Dump['type'];
  database: string | undefined;
  /** Object name beside the archive: dump-<name>.sql.zst[.age]. */
  objectName: string;
  command: string;
  /** First line of stdin: the password, when the dump has one. Secret: never log it. */
  input: string | undefined;
  compressRemotely: boolean;
}

export function dumpObjectName(name: string, compression: DumpCompression, encrypted: boolean): string {
  return `dump-${name}.sql${compressionSuffix(compression)}${encrypted ? '.age' : ''}`;
}

export function planDump(
  d: Dump,
  o: {
    compression: DumpCompression;
    compressRemotely: boolean;
    level?: number | undefined;
    encrypted: boolean;
  },
): DumpPlan {
  const name = dumpName(d);
  const client = dumpClientCommand(d);
  const read = passwordRead(d);
  const inner = `( ${client} )`;
  const compressRemotely = o.compressRemotely && o.compression !== 'none';
  let command: string;
  if (!compressRemotely) {
    command = `${read}${inner}; s=$?; echo "bo-dump-exit=$s" >&2; exit $s`;
  } else {
    const comp = o.compression === 'zstd' ? `zstd -q -c -${o.level ?? 3} -T0` : `gzip -c -n -${o.level ?? 6}`;
    command = `${read}( ${inner}; echo "bo-dump-exit=$?" >&2 ) | ${comp}; s=$?; echo "bo-${o.compression}-exit=$s" >&2; exit $s`;
  }
  return {
    name,
    type: d.type,
    database: d.type === 'command' ? undefined : d.database,
    objectName: dumpObjectName(name, o.compression, o.encrypted),
    command,
    input: d.type !== 'command' && d.password ? `${d.password.reveal()}\n` : undefined,
    compressRemotely,
  };
}

/** pg_dump / pg_dumpall / mysqldump with the connection options, or the user's command. */
export function dumpClientCommand(d: Dump): string {
  if (d.type === 'command') return d.command;
  const bin = (p: string) => (d.bin ? `${d.bin.replace(/\/$/, '')}/${p}` : p);
  let args: string[];
  if (d.type === 'postgres') {
    args = d.database
      ? [
          bin('pg_dump'),
          '--format=plain',
          '--no-password',
          ...pgConnection(d),
          ...d.options,
          `--dbname=${d.database}`,
        ]
      : [bin('pg_dumpall'), '--no-password', ...pgConnection(d), ...d.options];
  } else {
    args = [bin('mysqldump'), '--single-transaction', '--routines', ...mysqlConnection(d), ...d.options];
    args.push(...(d.database ? [d.database] : ['--all-databases']));
  }
  return runAs(d, args);
}

/** psql / mysql reading a dump on stdin into `intoDb`, or the command dump's `restore`. */
export function restoreClientCommand(d: Dump, intoDb: string | undefined): string | undefined {
  if (d.type === 'command') return d.restore;
  const bin = (p: string) => (d.bin ? `${d.bin.replace(/\/$/, '')}/${p}` : p);
  if (d.type === 'postgres') {
    const db = intoDb ?? d.database ?? 'postgres';
    return runAs(d, [
      bin('psql'),
      '-X',
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      '--no-password',
      ...pgConnection(d),
      `--dbname=${db}`,
    ]);
  }
  const db = intoDb ?? d.database;
  return runAs(d, [bin('mysql'), ...mysqlConnection(d), ...(db ? [db] : [])]);
}

export interface RestorePlan {
  /** Reads stdin: [password line,] prologue, the plain dump, and the epilogue. Exit markers as for dumps. */
  command: string;
  /** Sent before the dump. */
  prologue: string;
  /**
   * Sent only once the whole dump arrived and matched the manifest. A PostgreSQL database dump
   * runs inside BEGIN … COMMIT that bo writes itself: an input cut short for any reason (the
   * client killed late, the connection lost) ends without COMMIT and is rolled back. pg_dumpall
   * scripts create databases, which cannot run in a transaction, and MySQL commits every DDL
   * statement implicitly: those restores are not atomic.
   */
  epilogue: string;
}

export function restorePlan(d: Dump, intoDb: string | undefined): RestorePlan | undefined {
  const client = restoreClientCommand(d, intoDb);
  if (client === undefined) return undefined;
  const tx = d.type === 'postgres' && (intoDb !== undefined || d.database !== undefined);
  return {
    command: `${passwordRead(d)}( ${client} ); s=$?; echo "bo-dump-exit=$s" >&2; exit $s`,
    prologue: tx ? 'BEGIN;\n' : '',
    epilogue: tx ? '\nCOMMIT;\n' : '',
  };
}

function passwordRead(d: Dump): string {
  if (d.type === 'command' || !d.password) return '';
  const v = d.type === 'postgres' ? 'PGPASSWORD' : 'MYSQL_PWD';
  return `IFS= read -r ${v} || exit 97; export ${v}; `;
}

function pgConnection(d: Extract<Dump, { type: 'postgres' }>): string[] {
  return [
    ...(d.hostname ? [`--host=${d.hostname}`] : []),
    ...(d.port ? [`--port=${d.port}`] : []),
    ...(d.username ? [`--username=${d.username}`] : []),
  ];
}

/** MySQL/MariaDB clients take a unix socket as --socket: an absolute `hostname` is one. */
function mysqlConnection(d: Extract<Dump, { type: 'mysql' }>): string[] {
  const at = d.hostname?.startsWith('/') ? '--socket' : '--host';
  return [
    ...(d.hostname ? [`${at}=${d.hostname}`] : []),
    ...(d.port ? [`--port=${d.port}`] : []),
    ...(d.username ? [`--user=${d.username}`] : []),
  ];
}

function runAs(d: Exclude<Dump, { type: 'command' }>, args: string[]): string {
  return shellJoin(d.runAs ? ['runuser', '-u', d.runAs, '--', ...args] : args);
}

export interface DumpVerdict {
  ok: boolean;
  message: string;
}

/**
 * A dump succeeded only if the client reported exit 0 and so did the server's compressor.
 * `exit` only matters when a marker is missing (the command was killed).
 */
export function classifyDumpResult(
  stderr: string,
  exit: { code: number | null; signal: string | null },
  what = 'the dump command',
): DumpVerdict {
  let dump: number | undefined;
  let comp: { name: string; code: number } | undefined;
  const lines: string[] = [];
  for (const raw of stderr.split('\n')) {
    const line = raw.trim();
    const m = /^bo-(dump|zstd|gzip)-exit=(\d+)$/.exec(line);
    if (!m) {
      if (line) lines.push(line);
    } else if (m[1] === 'dump') dump = Number(m[2]);
    else comp = { name: m[1]!, code: Number(m[2]) };
  }
  const detail = lines.length ? `: ${lines.slice(-5).join('; ')}` : '';
  if (dump === undefined) {
    const how = exit.signal ? `killed by ${exit.signal}` : `exited ${exit.code}`;
    return { ok: false, message: `${what} did not finish (${how})${detail}` };
  }
  if (dump !== 0) return { ok: false, message: `${what} exited ${dump}${detail}` };
  if (comp && comp.code !== 0)
    return { ok: false, message: `${comp.name} failed on the server (exit ${comp.code})${detail}` };
  if (exit.code !== 0) return { ok: false, message: `${what} exited ${exit.code ?? exit.signal}${detail}` };
  return { ok: true, message: lines.slice(-5).join('; ') };
}
