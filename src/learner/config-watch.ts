// Watches the configuration directories of a real terraform apply / plan from
// the moment the process observer first sees it until it ends (inotify,
// through /proc/<pid>/root: the sandbox's own files, from outside it). The
// observer's snapshot is one look; a script that freezes the fresh process
// (SIGSTOP), lets the grader look, drops in an override file that replaces the
// deploy step and lets terraform go on (terraform reads its configuration again
// after it has taken the lock) passed c2.zero-drift with the deploy step
// skipped. The watch starts before the snapshot is read, so no change falls
// between the two. Only what can change what terraform runs is kept: main.tf,
// override files, and the saved plan an apply reads its configuration from.
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { OVERRIDE_FILE, TOFU_FILE } from './config-snapshot.ts';

/** A configuration file whose change can change what the lab's apply runs. */
export const WATCHED_FILE = (name: string) => name === 'main.tf' || OVERRIDE_FILE.test(name) || TOFU_FILE.test(name);

export class ConfigWatch {
  /** "<dir>/<file>" of each watched file created, changed, renamed or removed while the process lived (first time each). */
  readonly changed: string[] = [];
  private readonly watchers: FSWatcher[] = [];

  /**
   * `alive` says whether the process still runs: an event after it ended is not a change it could have read.
   * `files`: single files watched as well (a saved plan the apply reads its configuration from).
   */
  constructor(pid: number, dirs: string[], alive: () => boolean, files: string[] = []) {
    const targets = new Map<string, (name: string) => boolean>(dirs.map((dir) => [dir, WATCHED_FILE]));
    for (const file of files) {
      const dir = path.dirname(file);
      const base = path.basename(file);
      const before = targets.get(dir);
      targets.set(dir, (name) => name === base || (before?.(name) ?? false));
    }
    for (const [dir, watched] of targets) {
      try {
        const watcher = watch(`/proc/${pid}/root${dir}`, { persistent: false }, (_event, name) => {
          const file = `${dir.replace(/\/$/, '')}/${String(name ?? '')}`;
          if (name && watched(String(name)) && !this.changed.includes(file) && alive()) this.changed.push(file);
        });
        watcher.on('error', () => undefined);
        this.watchers.push(watcher);
      } catch {
        // the directory is gone (or the process): nothing to watch
      }
    }
  }

  close(): void {
    for (const watcher of this.watchers.splice(0)) watcher.close();
  }
}
