// The Terraform configuration a real terraform/tofu process runs, read from
// outside the sandbox the moment the process observer first sees it: the
// process's working directory as the kernel has it (/proc/<pid>/cwd, read
// through /proc/<pid>/root, so inside the sandbox's mount namespace), and the
// -chdir directory resolved from it. The process may be seen before or after
// terraform's own chdir, so both are read; a directory without .tf files is
// left out. Each file is kept as a SHA-256 of its bytes.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';

export interface ConfigSnapshot {
  /** The directory as the process sees it. */
  dir: string;
  /** Every *.tf, *.tf.json, *.tofu and *.tofu.json file in it: name -> SHA-256 (hex) of its content. */
  files: Record<string, string>;
}

// OpenTofu (1.8+) reads *.tofu and *.tofu.json files too, a main.tofu in place of main.tf (c2-cheat-tofu-override-file).
const CONFIG_FILE = /\.(tf|tofu)(\.json)?$/;
/** Files terraform merges over the configuration (override.tf, *_override.tf, their .tf.json forms, and OpenTofu's .tofu forms). */
export const OVERRIDE_FILE = /(^|_)override\.(tf|tofu)(\.json)?$/;
/** OpenTofu's own configuration files: none belongs to the lab, and X.tofu replaces X.tf for OpenTofu. */
export const TOFU_FILE = /\.tofu(\.json)?$/;

export const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/** The *.tf / *.tf.json / *.tofu / *.tofu.json files of `dir` (a real path: the grader's own, or one under /proc/<pid>/root). */
export function configFiles(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return files;
  }
  for (const name of names.sort()) {
    if (!CONFIG_FILE.test(name)) continue;
    try {
      files[name] = sha256(readFileSync(path.join(dir, name)));
    } catch {
      // a directory named *.tf, or gone meanwhile
    }
  }
  return files;
}

/** The directories process `pid` may read its configuration from, as it sees them: its cwd, and cwd + `chdir` when given. */
export function configDirs(pid: number, chdir: string | undefined): string[] {
  let cwd: string;
  try {
    cwd = readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return [];
  }
  return [...new Set([cwd, ...(chdir ? [path.resolve(cwd, chdir)] : [])])];
}

/** The configuration directories of process `pid` (its cwd, and cwd + `chdir` when given). */
export function snapshotConfig(pid: number, chdir: string | undefined, dirs: string[] = configDirs(pid, chdir)): ConfigSnapshot[] {
  return dirs.map((dir) => ({ dir, files: configFiles(`/proc/${pid}/root${dir}`) })).filter((snapshot) => Object.keys(snapshot.files).length > 0);
}
