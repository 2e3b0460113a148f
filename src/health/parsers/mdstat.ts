/** Parser for /proc/mdstat (Linux md software RAID). Pure. */

export interface MdDevice {
  name: string;
  failed: boolean;
  spare: boolean;
}

export interface MdSync {
  action: string;
  /** Percent done; undefined for DELAYED/PENDING. */
  percent?: number;
  /** Minutes left as the kernel estimates. */
  finishMinutes?: number;
  state?: 'delayed' | 'pending';
}

export interface MdArray {
  name: string;
  active: boolean;
  readOnly: boolean;
  level?: string;
  devices: MdDevice[];
  /** [n/m]: devices the array should have and those working. */
  expected?: number;
  working?: number;
  /** [UU_]: one letter per slot, "_" for a missing member. */
  map?: string;
  sync?: MdSync;
}

export interface Mdstat {
  personalities: string[];
  arrays: MdArray[];
}

const ARRAY_LINE = /^(md[\w/-]*)\s*:\s*(active|inactive)\s*(.*)$/;

export function parseMdstat(text: string): Mdstat {
  const out: Mdstat = { personalities: [], arrays: [] };
  let cur: MdArray | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('Personalities')) {
      out.personalities = [...line.matchAll(/\[(\w+)\]/g)].map((m) => m[1]!);
      continue;
    }
    const head = ARRAY_LINE.exec(line);
    if (head) {
      cur = parseHead(head[1]!, head[2] === 'active', head[3]!);
      out.arrays.push(cur);
      continue;
    }
    if (!cur || line === '') continue;
    const counts = /\[(\d+)\/(\d+)\]\s*\[([U_]+)\]/.exec(line);
    if (counts) {
      cur.expected = Number(counts[1]);
      cur.working = Number(counts[2]);
      cur.map = counts[3]!;
      continue;
    }
    const sync = /(recovery|resync|check|repair|reshape)\s*=\s*([\d.]+)%(?:.*finish=([\d.]+)min)?/.exec(line);
    if (sync) {
      cur.sync = { action: sync[1]!, percent: Number(sync[2]) };
      if (sync[3]) cur.sync.finishMinutes = Number(sync[3]);
      continue;
    }
    const waiting = /(recovery|resync|check|repair|reshape)\s*=\s*(DELAYED|PENDING)/.exec(line);
    if (waiting) cur.sync = { action: waiting[1]!, state: waiting[2] === 'DELAYED' ? 'delayed' : 'pending' };
  }
  return out;
}

function parseHead(name: string, active: boolean, rest: string): MdArray {
  const words = rest.split(/\s+/).filter(Boolean);
  const arr: MdArray = { name, active, readOnly: false, devices: [] };
  for (const w of words) {
    if (w.startsWith('(') && w.includes('read-only')) arr.readOnly = true;
    else if (/^(raid\d+|linear|multipath|faulty)$/.test(w)) arr.level = w;
    else {
      const d = /^([^[]+)\[\d+\]((?:\([A-Z]\))*)$/.exec(w);
      if (d) arr.devices.push({ name: d[1]!, failed: d[2]!.includes('(F)'), spare: d[2]!.includes('(S)') });
    }
  }
  return arr;
}
