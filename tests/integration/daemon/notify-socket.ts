/**
 * What systemd is to `Type=notify`, for tests: a unix datagram socket ($NOTIFY_SOCKET) that
 * the real `systemd-notify` sends to. Node cannot receive unix datagrams, so a few lines of
 * Python listen and print each message as a JSON line. systemd-notify waits (sd_notify_barrier)
 * until the receiver closes the fd that comes with its BARRIER=1 message; with `hold`, each
 * barrier is held until the test calls release(), keeping the daemon inside that notification.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const LISTENER = `
import array, json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps({"listening": True}), flush=True)
while True:
    msg, anc, _flags, _addr = s.recvmsg(65536, socket.CMSG_SPACE(64 * 4))
    fds = array.array("i")
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
    text = msg.decode("utf-8", "replace")
    print(json.dumps({"message": text, "fds": len(fds)}), flush=True)
    if sys.argv[2] == "hold" and text == "BARRIER=1":
        sys.stdin.readline()
    for fd in fds:
        os.close(fd)
`;

export interface NotifySocket {
  path: string;
  /** Every message received, in order ("READY=1\\nSTATUS=…"), barriers included. */
  messages: string[];
  /** Resolves with the first message (past or future) that matches. */
  next(pred: (m: string) => boolean, ms?: number): Promise<string>;
  /** Lets the held barrier go (hold mode): systemd-notify, and the daemon waiting on it, go on. */
  release(): void;
  stop(): void;
}

export async function listenForNotify(dir: string, opts: { hold?: boolean } = {}): Promise<NotifySocket> {
  const script = join(dir, 'notify-listener.py');
  writeFileSync(script, LISTENER);
  const path = join(dir, 'notify.sock');
  const child: ChildProcess = spawn('python3', [script, path, opts.hold ? 'hold' : 'pass'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const messages: string[] = [];
  const waiters = new Set<{ pred: (m: string) => boolean; resolve: (m: string) => void }>();
  let listening!: () => void;
  const ready = new Promise<void>((r) => (listening = r));
  let buf = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const rec = JSON.parse(buf.slice(0, nl)) as { listening?: boolean; message?: string };
      buf = buf.slice(nl + 1);
      if (rec.listening) listening();
      if (rec.message === undefined) continue;
      messages.push(rec.message);
      for (const w of [...waiters]) {
        if (!w.pred(rec.message)) continue;
        waiters.delete(w);
        w.resolve(rec.message);
      }
    }
  });
  await ready;
  return {
    path,
    messages,
    next(pred, ms = 20_000) {
      const seen = messages.find(pred);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`no such notification within ${ms} ms; got ${JSON.stringify(messages)}`)),
          ms,
        );
        waiters.add({
          pred,
          resolve: (m) => {
            clearTimeout(t);
            resolve(m);
          },
        });
      });
    },
    release: () => void child.stdin!.write('\n'),
    stop: () => void child.kill('SIGKILL'),
  };
}
