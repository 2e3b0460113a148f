/** Which df rows a disk/inodes check looks at: the listed mounts, else every real filesystem. */
export function selectMounts<R extends { mount: string }>(
  rows: readonly R[],
  spec: { mounts?: string[] | undefined; exclude: string[] },
  isReal: (r: R) => boolean,
): R[] {
  const byMount = new Map<string, R>();
  // Bind mounts and btrfs subvolumes show the same filesystem twice; the mount point is the key.
  for (const r of rows) if (!byMount.has(r.mount)) byMount.set(r.mount, r);
  const all = [...byMount.values()];
  const picked = spec.mounts ? all.filter((r) => spec.mounts!.includes(r.mount)) : all.filter(isReal);
  return picked.filter((r) => !spec.exclude.includes(r.mount));
}
