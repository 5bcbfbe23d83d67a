import { readFile, realpath } from 'node:fs/promises';
import { execa } from 'execa';
import { findOnPath } from '../util/find-on-path.ts';

// Resolves (once per process) a tool on the grader's PATH to the real program, looking through
// pyenv shims (a shim needs pyenv's environment, which a learner script does not get).
const resolved = new Map<string, Promise<string | undefined>>();

export function resolveTool(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const key = `${name}\0${env.PATH ?? ''}`;
  let found = resolved.get(key);
  if (!found) {
    found = resolveToolUncached(name, env);
    resolved.set(key, found);
  }
  return found;
}

async function resolveToolUncached(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const found = await findOnPath(name, env.PATH ?? '');
  if (!found) return undefined;
  const head = await readFile(found, { encoding: 'utf8', flag: 'r' }).then((text) => text.slice(0, 400)).catch(() => '');
  if (head.startsWith('#!') && head.includes('pyenv')) {
    const which = await execa('pyenv', ['which', name], { reject: false, env });
    if (which.exitCode === 0 && which.stdout.trim()) return which.stdout.trim();
  }
  return realpath(found);
}

/** The learner tools the contract promises besides terraform: the AWS CLI and jq. */
export const LEARNER_TOOLS = ['aws', 'jq'] as const;
