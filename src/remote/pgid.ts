import { randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * Killing a remote command reliably. The SSH "signal" request is refused by OpenSSH for root
 * logins ("session signalling requires privilege separation"), and closing the channel does not
 * stop a process that is not writing: sshd keeps the session until the child exits. sshd starts
 * every exec session in its own process group (setsid), so bo has the shell report its pid (the
 * group id) as the first line of stderr, strips that line, and kills the group from a second
 * channel with the shell's own `kill` builtin.
 */

const SEARCH_LIMIT = 4096;

export interface GroupMarker {
  /** The command with the marker prefix. */
  command: string;
  /** Removes the marker line from stderr and reports the group id (undefined if it never came). */
  stripper(onPgid: (pgid: number | undefined) => void): Transform;
}

export function groupMarker(command: string): GroupMarker {
  const tag = `bo-pgid:${randomBytes(6).toString('hex')}:`;
  return {
    command: `printf '${tag}%s\\n' "$$" >&2; ${command}`,
    stripper: (onPgid) => new MarkerStripper(Buffer.from(tag), onPgid),
  };
}

/** The command that kills a process group; run in the login shell on another channel. */
export function killGroupCommand(pgid: number, sudo: boolean): string {
  return `${sudo ? 'sudo -n ' : ''}kill -s KILL -- -${pgid} 2>/dev/null; true`;
}

class MarkerStripper extends Transform {
  #tag: Buffer;
  #onPgid: ((pgid: number | undefined) => void) | undefined;
  #buf = Buffer.alloc(0);

  constructor(tag: Buffer, onPgid: (pgid: number | undefined) => void) {
    super();
    this.#tag = tag;
    this.#onPgid = onPgid;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (!this.#onPgid) {
      cb(null, chunk);
      return;
    }
    const buf = Buffer.concat([this.#buf, chunk]);
    this.#buf = buf;
    // Shell start-up files may print before the marker: pass that through untouched.
    const at = buf.indexOf(this.#tag);
    const nl = at < 0 ? -1 : buf.indexOf(0x0a, at);
    if (nl >= 0) {
      const pgid = Number(buf.subarray(at + this.#tag.length, nl).toString('latin1'));
      if (at > 0) this.push(buf.subarray(0, at));
      this.#report(Number.isSafeInteger(pgid) && pgid > 1 ? pgid : undefined);
      cb(null, buf.subarray(nl + 1));
    } else if (buf.length > SEARCH_LIMIT) {
      this.#report(undefined);
      cb(null, buf);
    } else cb();
  }

  override _flush(cb: TransformCallback): void {
    const buf = this.#buf;
    if (this.#onPgid) this.#report(undefined);
    cb(null, buf);
  }

  #report(pgid: number | undefined): void {
    const f = this.#onPgid;
    this.#onPgid = undefined;
    this.#buf = Buffer.alloc(0);
    f?.(pgid);
  }
}
