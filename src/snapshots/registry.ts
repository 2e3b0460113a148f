import { btrfsProvider } from './btrfs.ts';
import { lvmProvider } from './lvm.ts';
import type { SnapshotProvider, SnapshotProviderName } from './provider.ts';
import { zfsProvider } from './zfs.ts';

/** Every snapshot provider, by the config's `provider:`. */
export const snapshotProviders: Record<SnapshotProviderName, SnapshotProvider> = {
  btrfs: btrfsProvider,
  lvm: lvmProvider,
  zfs: zfsProvider,
};

export function snapshotProvider(name: SnapshotProviderName): SnapshotProvider {
  return snapshotProviders[name];
}
