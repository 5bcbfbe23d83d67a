// RunCgroup's out-of-memory relief over a folder that stands in for the
// cgroup v1 files (the kernel's counters are written by the test), with a real
// child process as the victim: which process dies, and the memory loan that
// lets the script's next command start while the victim's memory is given back.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import { memoryLoanCap, RunCgroup } from './cgroup.ts';
import { DEFAULT_LIMITS } from './limits.ts';

const BASE = DEFAULT_LIMITS.memoryBytes;
let root: string;
let group: RunCgroup;
const children: ChildProcess[] = [];

async function sleeper(): Promise<ChildProcess> {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  children.push(child);
  await once(child, 'spawn');
  return child;
}
const file = (controller: 'memory' | 'pids', name: string) => path.join(group.dirs[controller], name);
const setKernel = async (facts: { underOom: 0 | 1; usage: number; pids: number[] }) => {
  await writeFile(file('memory', 'memory.oom_control'), `oom_kill_disable 1\nunder_oom ${facts.underOom}\noom_kill 0\n`);
  await writeFile(file('memory', 'memory.usage_in_bytes'), `${facts.usage}\n`);
  await writeFile(file('pids', 'cgroup.procs'), facts.pids.map((pid) => `${pid}\n`).join(''));
};
const limit = async () => Number(await readFile(file('memory', 'memory.limit_in_bytes'), 'utf8'));
const exited = (child: ChildProcess) => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, 'exit'));

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'lockgrader-cgroup-test-'));
  const parents = { memory: path.join(root, 'memory'), pids: path.join(root, 'pids'), cpuacct: path.join(root, 'cpuacct') };
  for (const dir of Object.values(parents)) await mkdir(dir);
  group = await RunCgroup.create({ available: true, parents }, DEFAULT_LIMITS);
});

afterEach(async () => {
  jest.restoreAllMocks();
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await rm(root, { recursive: true, force: true });
});

test('the loan is at most 256 MiB and a quarter of the limit', () => {
  expect(memoryLoanCap(1024 ** 3)).toBe(256 * 1024 ** 2);
  expect(memoryLoanCap(256 * 1024 ** 2)).toBe(64 * 1024 ** 2);
  expect(memoryLoanCap(8 * 1024 ** 3)).toBe(256 * 1024 ** 2);
});

describe('relieveMemory', () => {
  test('not out of memory: nobody is killed, the limit stays', async () => {
    const child = await sleeper();
    await setKernel({ underOom: 0, usage: BASE / 2, pids: [child.pid!] });
    expect(await group.relieveMemory()).toBe(false);
    expect(child.exitCode).toBeNull();
    expect(child.signalCode).toBeNull();
    expect(await limit()).toBe(BASE);
  });

  test('out of memory: the largest process is killed and what it held is lent until the run is back under its limit', async () => {
    const small = await sleeper();
    const large = spawn('python3', ['-c', 'import sys, time\nheld = b"x" * (64 << 20)\nprint("ready", flush=True)\ntime.sleep(60)'], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(large);
    await once(large.stdout!, 'data');
    await setKernel({ underOom: 1, usage: BASE, pids: [small.pid!, large.pid!] });

    expect(await group.relieveMemory()).toBe(true);
    await exited(large);
    expect(large.signalCode).toBe('SIGKILL');
    expect(small.exitCode).toBeNull();
    // The loan: what the victim held (64 MiB and its interpreter), no more than the cap.
    const lent = (await limit()) - BASE;
    expect(lent).toBeGreaterThan(64 * 1024 * 1024);
    expect(lent).toBeLessThanOrEqual(memoryLoanCap(BASE));
    expect(Number(await readFile(file('memory', 'memory.memsw.limit_in_bytes'), 'utf8'))).toBe(BASE + lent);

    // The victim has left the group but its memory is still charged: nobody else dies, the loan stays.
    await setKernel({ underOom: 0, usage: BASE + 1024, pids: [small.pid!] });
    expect(await group.relieveMemory()).toBe(false);
    expect(await limit()).toBe(BASE + lent);

    // Its memory is back: the limit is the run's again.
    await setKernel({ underOom: 0, usage: BASE - 1024, pids: [small.pid!] });
    expect(await group.relieveMemory()).toBe(false);
    expect(await limit()).toBe(BASE);
    expect(Number(await readFile(file('memory', 'memory.memsw.limit_in_bytes'), 'utf8'))).toBe(BASE);
    expect(small.exitCode).toBeNull();
  });

  test('still over its limit 5 s after the loan: the run is out of memory again', async () => {
    const first = await sleeper();
    const second = await sleeper();
    await setKernel({ underOom: 1, usage: BASE, pids: [first.pid!] });
    const now = jest.spyOn(performance, 'now').mockReturnValue(10_000);
    expect(await group.relieveMemory()).toBe(true);
    await exited(first);

    await setKernel({ underOom: 0, usage: BASE + 4096, pids: [second.pid!] });
    now.mockReturnValue(14_500);
    expect(await group.relieveMemory()).toBe(false);
    expect(second.exitCode).toBeNull();
    now.mockReturnValue(15_100);
    expect(await group.relieveMemory()).toBe(true);
    await exited(second);
    expect(second.signalCode).toBe('SIGKILL');
  });
});
