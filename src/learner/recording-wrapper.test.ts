// The recording wrapper around a fake binary (a script standing in for
// terraform): arguments recorded exactly, exit codes and signals passed on.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execa } from 'execa';
import { readInvocations } from './invocations.ts';
import { writeRecordingWrappers } from './recording-wrapper.ts';

let dir: string;
let records: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'lockgrader-wrapper-test-'));
  const fake = path.join(dir, 'fake-terraform');
  await writeFile(fake, '#!/bin/bash\nread -t 1 line; echo "stdin:$line"; echo "args:$#"; [ "$1" = sleep ] && exec sleep 30; exit "${EXIT:-0}"\n');
  await chmod(fake, 0o755);
  records = path.join(dir, 'records.jsonl');
  await writeRecordingWrappers(dir, fake, records);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('recording wrapper', () => {
  test('records awkward arguments exactly, passes stdin and the exit code', async () => {
    const args = ['force-unlock', '-force', 'id with "quotes" and \\back', 'tab\there', 'new\nline', 'ünïcödé', ''];
    const run = await execa(path.join(dir, 'terraform'), args, { input: 'yes\n', env: { EXIT: '3' }, reject: false });
    expect(run.exitCode).toBe(3);
    expect(run.stdout).toBe(`stdin:yes\nargs:${args.length}`);
    const [invocation] = (await readInvocations(records)).slice(-1);
    expect(invocation?.args).toEqual(args);
    expect(invocation?.tool).toBe('terraform');
    expect(invocation?.exit_code).toBe(3);
    expect(invocation?.ended_at).toBeGreaterThanOrEqual(invocation?.started_at ?? Infinity);
  });

  test('records TF_CLI_ARGS and every TF_CLI_ARGS_* variable, values exactly, and nothing else', async () => {
    const env = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      TF_CLI_ARGS: '-no-color',
      TF_CLI_ARGS_apply: `-lock=false -var 'msg=it's "quoted"' \\ tab\there\nnew line`,
      TF_CLI_ARGS_state_push: '',
      TF_CLI_ARGSX: 'not terraform\'s',
      TF_CLI_ARG: 'nor this',
      OTHER: 'x',
    };
    const run = await execa(path.join(dir, 'terraform'), ['apply', '-auto-approve'], { env, extendEnv: false, reject: false, stdin: 'ignore' });
    expect(run.exitCode).toBe(0);
    const lines = (await readFile(records, 'utf8')).trim().split('\n');
    const start = JSON.parse(lines.at(-2) ?? '') as { event: string; tf_cli_args: unknown };
    expect(start.event).toBe('start');
    const want = { TF_CLI_ARGS: env.TF_CLI_ARGS, TF_CLI_ARGS_apply: env.TF_CLI_ARGS_apply, TF_CLI_ARGS_state_push: '' };
    expect(start.tf_cli_args).toEqual(want);
    const [invocation] = (await readInvocations(records)).slice(-1);
    expect(invocation?.args).toEqual(['apply', '-auto-approve']);
    expect(invocation?.tf_cli_args).toEqual(want);
  });

  test('without TF_CLI_ARGS variables the record holds an empty object', async () => {
    const run = await execa(path.join(dir, 'terraform'), ['plan'], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, extendEnv: false, reject: false, stdin: 'ignore' });
    expect(run.exitCode).toBe(0);
    const [invocation] = (await readInvocations(records)).slice(-1);
    expect(invocation?.args).toEqual(['plan']);
    expect(invocation?.tf_cli_args).toEqual({});
  });

  test('readInvocations: a missing file is no invocations; broken lines and odd tf_cli_args are skipped', async () => {
    expect(await readInvocations(path.join(dir, 'nope.jsonl'))).toEqual([]);
    const file = path.join(dir, 'odd.jsonl');
    const start = (id: string, extra: string) => `{"event":"start","id":"${id}","tool":"terraform","args":["plan"]${extra},"cwd":"/","pid":1,"started_at":${id.length}}`;
    const lines = [start('a', ''), 'not json', start('bb', ',"tf_cli_args":["x"]'), start('ccc', ',"tf_cli_args":{"TF_CLI_ARGS":1}'), start('dddd', ',"tf_cli_args":null')];
    await writeFile(file, [...lines, '{"event":"end","id":"zz","ended_at":1,"exit_code":0,"signal":null}', ''].join('\n'));
    const read = await readInvocations(file);
    expect(read).toHaveLength(4);
    for (const invocation of read) expect(invocation).not.toHaveProperty('tf_cli_args');
  });

  test('a TERM to the wrapper reaches the binary and is recorded as the signal', async () => {
    const child = execa(path.join(dir, 'tofu'), ['sleep'], { reject: false, stdin: 'ignore' });
    // The event: the fake binary is running (it printed its arguments).
    await new Promise<void>((resolve) => child.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('args:') && resolve()));
    child.kill('SIGTERM');
    const result = await child;
    expect(result.signal).toBe('SIGTERM');
    const tofu = (await readInvocations(records)).filter((r) => r.tool === 'tofu');
    expect(tofu.at(-1)?.signal).toBe('SIGTERM');
    expect(tofu.at(-1)?.exit_code).toBeNull();
  });
});
