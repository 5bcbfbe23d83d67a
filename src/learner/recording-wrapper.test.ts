// The recording wrapper around a fake binary (a script standing in for
// terraform): arguments recorded exactly, exit codes and signals passed on.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
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
