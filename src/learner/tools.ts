import { readFile, realpath, symlink } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { probeCacheFile } from '../terraform/locate.ts';
import { cachedProbe } from '../util/probe-cache.ts';
import { findOnPath, isExecutable } from '../util/find-on-path.ts';
import { writeAwsFront, writeAwsHomeFiles, writeAwsMissingStub } from './aws-front.ts';

// Resolves (once per process) a tool on the grader's PATH to the real program, looking through
// pyenv shims (a shim needs pyenv's environment, which a learner script does not get).
// `aws` resolves only to an AWS CLI v2 (resolveAwsCliV2), never to a v1.
const resolved = new Map<string, Promise<string | undefined>>();

export function resolveTool(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (name === 'aws') return resolveAwsCliV2(env).then((found) => found?.path);
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
  return found ? realProgram(found, name, env) : undefined;
}

// The program behind `file`: through a pyenv shim, then symlinks.
async function realProgram(file: string, name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const head = await readFile(file, { encoding: 'utf8', flag: 'r' }).then((text) => text.slice(0, 400)).catch(() => '');
  if (head.startsWith('#!') && head.includes('pyenv')) {
    const which = await execa('pyenv', ['which', name], { reject: false, env });
    if (which.exitCode === 0 && which.stdout.trim()) return which.stdout.trim();
  }
  return realpath(file).catch(() => undefined);
}

/** The learner tools the contract promises besides terraform: the AWS CLI and jq. */
export const LEARNER_TOOLS = ['aws', 'jq'] as const;

/** One AWS CLI found on this machine, as `aws --version` describes it. */
export interface AwsCliCandidate {
  /** The real program (pyenv shims and symlinks resolved). */
  path: string;
  /** e.g. "2.9.19"; undefined when `--version` did not answer like an AWS CLI. */
  version: string | undefined;
  major: number | undefined;
  /** The first line `--version` printed (or why it failed). */
  versionLine: string;
}

/** Where AWS's installer and Debian put an AWS CLI v2, looked at after PATH. */
export const AWS_CLI_V2_LOCATIONS = ['/usr/local/bin/aws', '/usr/local/aws-cli/v2/current/bin/aws', '/usr/bin/aws'] as const;

const awsClis = new Map<string, Promise<AwsCliCandidate[]>>();

// Every AWS CLI on this machine, in the order resolveAwsCliV2 prefers them:
// LOCKGRADER_AWS_CLI alone when set (a path), else each `aws` on PATH, then
// AWS_CLI_V2_LOCATIONS; duplicates (same real program) dropped. Once per process.
export function findAwsClis(env: NodeJS.ProcessEnv = process.env): Promise<AwsCliCandidate[]> {
  const key = `${env.LOCKGRADER_AWS_CLI ?? ''}\0${env.PATH ?? ''}`;
  let found = awsClis.get(key);
  if (!found) {
    found = findAwsClisUncached(env);
    awsClis.set(key, found);
  }
  return found;
}

async function findAwsClisUncached(env: NodeJS.ProcessEnv): Promise<AwsCliCandidate[]> {
  const places: string[] = [];
  if (env.LOCKGRADER_AWS_CLI) places.push(env.LOCKGRADER_AWS_CLI);
  else {
    for (const dir of (env.PATH ?? '').split(path.delimiter)) if (dir !== '') places.push(path.join(dir, 'aws'));
    places.push(...AWS_CLI_V2_LOCATIONS);
  }
  const programs: string[] = [];
  for (const place of places) {
    if (!(await isExecutable(place))) continue;
    const program = await realProgram(place, 'aws', env);
    if (program && !programs.includes(program)) programs.push(program);
  }
  return Promise.all(programs.map((program) => probeAwsCli(program, env)));
}

// `aws --version`: v2 prints "aws-cli/2.9.19 Python/3.11.2 Linux/... source/..."
// on stdout; old v1 releases print theirs on stderr. It takes about a second
// (v1 0.7 s, Debian's v2 1.2 s) and every grader suite resolves the CLI anew
// (Jest gives each its own modules), so answers are kept in the cache folder,
// keyed by the program's path, inode, size and change time.
async function probeAwsCli(program: string, env: NodeJS.ProcessEnv): Promise<AwsCliCandidate> {
  const versionLine = await cachedProbe(
    probeCacheFile(env),
    'aws --version',
    program,
    async () => {
      const run = await execa(program, ['--version'], { reject: false, timeout: 30_000, env, stdin: 'ignore' });
      const output = `${run.stdout}\n${run.stderr}`.trim();
      return { line: output.split('\n')[0]?.trim() || (run.failed ? (run.shortMessage ?? '') : ''), ok: run.exitCode === 0 };
    },
    (answer) => answer.ok && answer.line.startsWith('aws-cli/'),
  ).then((answer) => answer.line);
  const match = /^aws-cli\/((\d+)\.\d+\.\d+\S*)/.exec(versionLine);
  return { path: program, version: match?.[1], major: match ? Number(match[2]) : undefined, versionLine };
}

// The AWS CLI learner scripts get: the first v2 of findAwsClis (`--version`
// starts with "aws-cli/2"). An AWS CLI v1 is never returned, even when it is
// the only one (it rejects v2 options learners use, e.g. --no-cli-pager).
export async function resolveAwsCliV2(env: NodeJS.ProcessEnv = process.env): Promise<{ path: string; version: string } | undefined> {
  const found = (await findAwsClis(env)).find((candidate) => candidate.major === 2 && candidate.version);
  return found ? { path: found.path, version: found.version! } : undefined;
}

/** What installLearnerTools put in a learner's bin folder. */
export interface InstalledLearnerTools {
  /** Tools the contract promises that were not found on this machine. */
  missingTools: string[];
  /** The real programs behind the tools (the sandbox must show them). */
  toolPaths: string[];
}

// Puts the contract's learner tools into binDir: `aws` as the endpoint front
// (aws-front.ts) before the AWS CLI v2 — or, with no v2 here, a stub that
// refuses, so no v1 later on PATH is reached — and `jq` as a symlink; writes
// the AWS CLI's config into the learner's HOME.
export async function installLearnerTools(binDir: string, home: string, env: NodeJS.ProcessEnv = process.env): Promise<InstalledLearnerTools> {
  const missingTools: string[] = [];
  const toolPaths: string[] = [];
  const aws = await resolveAwsCliV2(env);
  if (aws) {
    await writeAwsFront(binDir, aws.path);
    await writeAwsHomeFiles(home);
    toolPaths.push(aws.path);
  } else {
    await writeAwsMissingStub(binDir);
    missingTools.push('aws');
  }
  for (const tool of LEARNER_TOOLS) {
    if (tool === 'aws') continue;
    const real = await resolveTool(tool, env);
    if (real) {
      await symlink(real, path.join(binDir, tool));
      toolPaths.push(real);
    } else missingTools.push(tool);
  }
  return { missingTools, toolPaths };
}
