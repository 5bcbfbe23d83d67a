// Which AWS CLI learner scripts get, with fake CLIs that answer `--version`
// like v1 and v2 do: a v2 only, whatever comes first on PATH.
import { chmod, lstat, mkdir, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execa } from 'execa';
import { findAwsClis, installLearnerTools, resolveAwsCliV2, resolveTool } from './tools.ts';

let dir: string;
let v1: string;
let v2: string;
let env: NodeJS.ProcessEnv;

async function fakeCli(folder: string, script: string): Promise<string> {
  await mkdir(folder, { recursive: true });
  const file = path.join(folder, 'aws');
  await writeFile(file, `#!/bin/bash\n${script}\n`);
  await chmod(file, 0o755);
  return file;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'lockgrader-tools-test-'));
  // AWS CLI v1 1.18 printed its version on stderr; v2 prints it on stdout.
  v1 = await fakeCli(path.join(dir, 'v1'), 'echo "aws-cli/1.18.69 Python/3.8.10 Linux/5.4 botocore/1.17.0" >&2');
  v2 = await fakeCli(path.join(dir, 'v2'), 'echo "aws-cli/2.9.19 Python/3.11.2 Linux/6.1 source/x86_64.debian.12 prompt/off"');
  await fakeCli(path.join(dir, 'broken'), 'exit 1');
  env = { PATH: [path.join(dir, 'broken'), path.join(dir, 'v1'), path.join(dir, 'v2'), '/usr/bin', '/bin'].join(':'), LOCKGRADER_CACHE_DIR: path.join(dir, 'cache') };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('AWS CLI resolution', () => {
  test('every aws on PATH is described; the first v2 is the one learners get, never the v1 before it', async () => {
    const found = await findAwsClis(env);
    expect(found.slice(0, 3).map((c) => [c.path, c.major ?? null, c.version ?? null])).toEqual([
      [path.join(dir, 'broken', 'aws'), null, null],
      [v1, 1, '1.18.69'],
      [v2, 2, '2.9.19'],
    ]);
    expect(await resolveAwsCliV2(env)).toEqual({ path: v2, version: '2.9.19' });
    expect(await resolveTool('aws', env)).toBe(v2);
  });

  test('LOCKGRADER_AWS_CLI names the only candidate, and a v1 there gives no CLI at all', async () => {
    expect(await resolveAwsCliV2({ ...env, LOCKGRADER_AWS_CLI: v1 })).toBeUndefined();
    expect(await resolveTool('aws', { ...env, LOCKGRADER_AWS_CLI: v1 })).toBeUndefined();
    expect(await resolveAwsCliV2({ ...env, LOCKGRADER_AWS_CLI: v2 })).toEqual({ path: v2, version: '2.9.19' });
  });

  test('versions are cached by program identity, and a changed program is asked again', async () => {
    const cacheEnv: NodeJS.ProcessEnv = { ...env, LOCKGRADER_CACHE_DIR: path.join(dir, 'cache2') };
    const program = await fakeCli(path.join(dir, 'changing'), 'echo "aws-cli/2.1.0 Python/3.9"');
    expect((await resolveAwsCliV2({ ...cacheEnv, LOCKGRADER_AWS_CLI: program }))?.version).toBe('2.1.0');
    const cache = JSON.parse(await readFile(path.join(dir, 'cache2', 'probe-answers.json'), 'utf8')) as Record<string, { answer: { line: string } }>;
    expect(cache[`aws --version ${program}`]?.answer.line).toBe('aws-cli/2.1.0 Python/3.9');
    // Rewritten in place as an upgrade to a v1 would (findAwsClis caches per
    // process and PATH, so a new PATH value asks again).
    await fakeCli(path.join(dir, 'changing'), 'echo "aws-cli/1.44.0 Python/3.11 botocore/1.42.0"');
    expect(await resolveAwsCliV2({ ...cacheEnv, LOCKGRADER_AWS_CLI: program, PATH: `${cacheEnv.PATH}:/nonexistent` })).toBeUndefined();
  });
});

describe('installLearnerTools', () => {
  test('aws is the front before the v2, jq a symlink, and HOME gets the AWS config', async () => {
    const binDir = await mkdtemp(path.join(dir, 'bin-'));
    const home = await mkdtemp(path.join(dir, 'home-'));
    const installed = await installLearnerTools(binDir, home, env);
    expect(installed.toolPaths[0]).toBe(v2);
    const front = await readFile(path.join(binDir, 'aws'), 'utf8');
    expect(front).toContain(`real='${v2}'`);
    const jq = await resolveTool('jq', env);
    if (jq) {
      expect((await lstat(path.join(binDir, 'jq'))).isSymbolicLink()).toBe(true);
      expect(await readlink(path.join(binDir, 'jq'))).toBe(jq);
      expect(installed.missingTools).toEqual([]);
    } else expect(installed.missingTools).toEqual(['jq']);
    expect(await readFile(path.join(home, '.aws', 'config'), 'utf8')).toMatch(/addressing_style = path/);
    const version = await execa(path.join(binDir, 'aws'), ['--version'], { env: { PATH: `${binDir}:/usr/bin:/bin` }, extendEnv: false });
    expect(version.stdout).toMatch(/^aws-cli\/2\./);
  });

  test('with only a v1, aws is missing and the stub in binDir shadows any v1 later on PATH', async () => {
    const binDir = await mkdtemp(path.join(dir, 'bin-'));
    const home = await mkdtemp(path.join(dir, 'home-'));
    const installed = await installLearnerTools(binDir, home, { ...env, LOCKGRADER_AWS_CLI: v1 });
    expect(installed.missingTools).toContain('aws');
    expect(installed.toolPaths).not.toContain(v1);
    const run = await execa('aws', ['--version'], { env: { PATH: `${binDir}:${path.dirname(v1)}` }, extendEnv: false, reject: false });
    expect(run.exitCode).toBe(127);
    expect(run.stderr).toMatch(/no AWS CLI v2/);
  });
});
