/** How full the run's writable places were when its script ended (the sandbox launcher's report). */
export interface DiskReport {
  /** Places at (or within 1 MiB of) their size. */
  fullPlaces: string[];
  /** The most any one place held. */
  usedBytes: number | undefined;
}

/** How feedback names the run folder's tmpfs. */
export const WORKING_COPY_PLACE = 'its working copy and HOME';

/** A place within 1 MiB of its size is full (a write of any size may already have failed). */
export function isFull(usedBytes: number, sizeBytes: number): boolean {
  return sizeBytes > 0 && usedBytes >= sizeBytes - 1024 * 1024;
}

// Reads the launcher's JSON lines ({"place","used","size"}) among the other
// lines of its report. The script could reach the launcher's pipe, so what
// it says only shapes the script's own feedback (a note that it filled its
// disk), never a verdict.
export function parseDiskReport(text: string): DiskReport {
  const fullPlaces: string[] = [];
  let usedBytes: number | undefined;
  for (const line of text.split('\n')) {
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof entry !== 'object' || entry === null) continue;
    const { place, used, size } = entry as Record<string, unknown>;
    if (typeof place !== 'string' || typeof used !== 'number' || typeof size !== 'number') continue;
    usedBytes = Math.max(usedBytes ?? 0, used);
    const label = place === '/tmp' ? '/tmp' : WORKING_COPY_PLACE;
    if (isFull(used, size) && !fullPlaces.includes(label)) fullPlaces.push(label);
  }
  return { fullPlaces, usedBytes };
}
