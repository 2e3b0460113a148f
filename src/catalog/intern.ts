/** Returns each distinct string once: strings many parsed entries share (jobs, hosts, object names) are kept once. */
export type Interner = (s: string) => string;

export function interner(): Interner {
  const seen = new Map<string, string>();
  return (s) => {
    const got = seen.get(s);
    if (got !== undefined) return got;
    seen.set(s, s);
    return s;
  };
}
