import path from 'node:path';
import { SANDBOX_HIDE_VARIABLE } from '../paths.ts';

// The temp folders where this grading and others on the machine keep their
// run folders: each holds the submission copy, workspaces, gate files and
// logs of a grading. The sandbox hides its own run folder; without this a
// script could list its siblings and read another learner's submission when
// TMPDIR is not /tmp (measured: a challenge 1 script listed the run folders
// and submission copies of a concurrent grading). /tmp and what is under it
// are the sandbox's own private tmpfs already; / is never hidden.
export function gradingTempRoots(runDir: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const candidates = [path.dirname(runDir), ...(env[SANDBOX_HIDE_VARIABLE] ?? '').split(path.delimiter)];
  const roots: string[] = [];
  for (const candidate of candidates) {
    if (!path.isAbsolute(candidate)) continue;
    const dir = path.resolve(candidate);
    if (dir === '/' || dir === '/tmp' || dir.startsWith('/tmp/') || roots.includes(dir)) continue;
    roots.push(dir);
  }
  return roots;
}
