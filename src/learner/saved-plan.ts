// The configuration inside a saved plan file. Applying a saved plan runs the
// configuration stored in it (a zip: tfconfig/m-/ holds the root module's
// files as they were at `plan -out`), not the files of the directory the apply
// starts in. A plan made honestly and then rewritten by hand (python's
// zipfile: tfconfig/m-/main.tf edited so the deploy step no longer deploys)
// was applied from a pristine directory and earned 45/45. The process observer
// reads the plan file an apply names, from outside the sandbox, and the judges
// compare its main.tf and override files with the lab's like any directory's.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { sha256, type ConfigSnapshot } from './config-snapshot.ts';

/** Plan files larger than this are not read (the lab's are a few KB). */
const MAX_PLAN_BYTES = 64 * 1024 * 1024;
const MAX_ENTRY_BYTES = 4 * 1024 * 1024;
/** The root module's files in a plan's configuration snapshot. */
const ROOT_MODULE = 'tfconfig/m-/';
const CONFIG_FILE = /\.(tf|tofu)(\.json)?$/;

/** The root module's *.tf / *.tf.json files in a plan file (a zip): name -> SHA-256; undefined when it is not a readable zip. */
export function planConfigFiles(zip: Buffer): Record<string, string> | undefined {
  // End of central directory: the last 22 bytes, or earlier when the zip has a comment.
  let eocd = -1;
  for (let at = zip.length - 22; at >= Math.max(0, zip.length - 22 - 0xffff); at -= 1) {
    if (zip.readUInt32LE(at) === 0x06054b50) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) return undefined;
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const files: Record<string, string> = {};
  for (let entry = 0; entry < count; entry += 1) {
    if (at + 46 > zip.length || zip.readUInt32LE(at) !== 0x02014b50) return undefined;
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    at += 46 + nameLength + extraLength + commentLength;
    const relative = name.startsWith(ROOT_MODULE) ? name.slice(ROOT_MODULE.length) : undefined;
    if (relative === undefined || relative.includes('/') || !CONFIG_FILE.test(relative)) continue;
    if (local + 30 > zip.length || zip.readUInt32LE(local) !== 0x04034b50 || compressed > MAX_ENTRY_BYTES) return undefined;
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + compressed);
    try {
      files[relative] = sha256(method === 0 ? data : method === 8 ? inflateRawSync(data, { maxOutputLength: MAX_ENTRY_BYTES }) : Buffer.alloc(0));
    } catch {
      return undefined;
    }
    if (method !== 0 && method !== 8) return undefined;
  }
  return files;
}

/**
 * The configuration stored in the plan file `planFile` that process `pid` applies, read through /proc/<pid>/root
 * (`base`: the directory the process resolves it from, as it sees it): one snapshot named after the file, or
 * undefined when there is no such file. A file that is not a plan zip gives a snapshot with no files (no main.tf).
 */
export function snapshotSavedPlan(pid: number, base: string, planFile: string, maxBytes = MAX_PLAN_BYTES): ConfigSnapshot | undefined {
  const file = path.resolve(base, planFile);
  let bytes: Buffer;
  try {
    // A plan too large to read is not the lab's: its configuration is unknown, judged as a change (no main.tf read).
    // It was left out (no snapshot at all): an edited plan padded with a 65 MiB stored entry earned 45/45 with the
    // deploy step skipped (c2-cheat-plan-file-padded). Its size is asked first: the grader never reads it whole.
    const size = statSync(`/proc/${pid}/root${file}`).size;
    if (size > maxBytes) return { dir: `${file} (saved plan of ${size} bytes, more than the ${maxBytes} the grader reads)`, files: {} };
    bytes = readFileSync(`/proc/${pid}/root${file}`);
  } catch {
    return undefined;
  }
  return { dir: `${file} (saved plan)`, files: planConfigFiles(bytes) ?? {} };
}

/** Where the saved plan `planFile` is, as process `pid` sees it: resolved from the first of `bases` where it exists. */
export function savedPlanPath(pid: number, bases: string[], planFile: string): string | undefined {
  for (const base of bases) {
    const file = path.resolve(base, planFile);
    if (existsSync(`/proc/${pid}/root${file}`)) return file;
  }
  return undefined;
}
