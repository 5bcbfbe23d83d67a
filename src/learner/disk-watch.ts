import { statfs } from 'node:fs/promises';
import type { RunCgroup } from './cgroup.ts';
import { isFull } from './disk-report.ts';

const TMPFS_MAGIC = 0x01021994;

/** A writable place of a sandboxed run: its path inside the sandbox and how feedback names it. */
export interface WatchedPlace {
  path: string;
  label: string;
}

// Watches how full a sandboxed run's tmpfs places are, from outside: through
// /proc/<pid>/root of a process of the run's control group (the sandbox's
// mount namespace), so what it sees is the kernel's count, which the script
// cannot forge. A place counts as full when it came within 1 MiB of its size
// at any sample.
export class DiskWatch {
  peakBytes = 0;
  readonly fullPlaces = new Set<string>();
  private readonly cgroup: RunCgroup;
  private readonly places: WatchedPlace[];
  private readonly sizeBytes: number;

  constructor(cgroup: RunCgroup, places: WatchedPlace[], sizeBytes: number) {
    this.cgroup = cgroup;
    this.places = places;
    this.sizeBytes = sizeBytes;
  }

  async sample(): Promise<void> {
    const pids = (await this.cgroup.pids()).slice(-3).reverse();
    for (const place of this.places) {
      for (const pid of pids) {
        const stats = await statfs(`/proc/${pid}/root${place.path}`).catch(() => undefined);
        // Only the run's own tmpfs of its size (a process not yet in the sandbox sees the host's disk).
        if (!stats || stats.type !== TMPFS_MAGIC || Math.abs(stats.blocks * stats.bsize - this.sizeBytes) > 64 * 1024) continue;
        const used = (stats.blocks - stats.bfree) * stats.bsize;
        this.peakBytes = Math.max(this.peakBytes, used);
        if (isFull(used, this.sizeBytes)) this.fullPlaces.add(place.label);
        break;
      }
    }
  }
}
