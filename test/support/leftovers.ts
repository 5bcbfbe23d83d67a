import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { execa } from 'execa';

/** Temp folders lockgrader makes (lockgrader-run-*, lockgrader-ws-*, lockgrader-c1-*, ...). */
export async function lockgraderTempDirs(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((name) => /^lockgrader-(run|ws|c\d|s3|cli|verify)-/.test(name) && !/test/.test(name)).sort();
}

/** Processes whose command line matches the pattern (e.g. the sleeps hostile scripts leave). */
export async function processesMatching(pattern: RegExp): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const text = cmdline.split('\0').join(' ').trim();
    if (text && pattern.test(text)) found.push(`${entry} ${text}`);
  }
  return found;
}

/** Listening TCP ports on this machine. */
export async function listeningPorts(): Promise<Set<string>> {
  const result = await execa('ss', ['-Hltn'], { reject: false });
  return new Set(result.stdout.split('\n').map((line) => line.trim().split(/\s+/)[3] ?? '').filter(Boolean));
}
