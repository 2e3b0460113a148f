import type { Socket } from 'node:net';
import { readReply } from './socket.ts';

/** A complete SMTP reply: the last line has a space (not a dash) after the code. */
function smtpDone(lines: string[]): boolean {
  return /^\d{3}(?: |$)/.test(lines.at(-1) ?? '');
}

async function expect(sock: Socket, timeoutMs: number, code: string, what: string): Promise<string[]> {
  const lines = await readReply(sock, timeoutMs, smtpDone);
  const last = lines.at(-1) ?? '';
  if (!last.startsWith(code)) throw new Error(`${what}: server said "${last.slice(0, 120)}"`);
  return lines;
}

/** SMTP up to the point where TLS starts: greeting, EHLO, STARTTLS (RFC 3207). */
export async function smtpStartTls(sock: Socket, timeoutMs: number): Promise<void> {
  await expect(sock, timeoutMs, '220', 'no SMTP greeting');
  sock.write('EHLO bo.invalid\r\n');
  const ehlo = await expect(sock, timeoutMs, '250', 'EHLO refused');
  if (!ehlo.some((l) => /^250[ -]STARTTLS\b/i.test(l))) throw new Error('the server does not offer STARTTLS');
  sock.write('STARTTLS\r\n');
  await expect(sock, timeoutMs, '220', 'STARTTLS refused');
}
