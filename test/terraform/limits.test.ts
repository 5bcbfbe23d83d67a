// Resource limits of learner runs, with bounded hostile fixtures (fixtures/hostile/limit-*):
// each limit holds (the kernel's counters stay at or under it), the grading still
// completes `graded` with feedback naming the limit and its value, the next grading
// is unaffected, and nothing survives (processes, control groups).
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { GradeResult } from '../../src/grading/types.ts';
import { detectCgroups, memoryLoanCap, RunCgroup } from '../../src/learner/cgroup.ts';
import { DEFAULT_LIMITS } from '../../src/learner/limits.ts';
import { detectSandbox } from '../../src/learner/sandbox.ts';
import { repoPath } from '../../src/paths.ts';
import { describeUnrunnable } from '../support/ci.ts';
import { runCli } from '../support/cli.ts';
import { processesMatching } from '../support/leftovers.ts';

const HOSTILE = repoPath('fixtures/hostile');
const cgroups = await detectCgroups();
const sandbox = await detectSandbox();
const runnable = cgroups.available && sandbox.kind === 'bubblewrap';
const why = !cgroups.available ? cgroups.reason : sandbox.description;
if (!runnable) describeUnrunnable('resource limits of learner runs', why ?? 'no control groups or sandbox');
const limitTest = runnable ? test : test.skip;

let out: string;
beforeAll(async () => {
  out = await mkdtemp(path.join(tmpdir(), 'lockgrader-limits-test-'));
});
afterAll(() => rm(out, { recursive: true, force: true }));

async function grade(fixture: string, extra: string[] = [], challenges = '2'): Promise<GradeResult> {
  const json = path.join(out, `${path.basename(fixture)}-${challenges}.json`);
  const run = await runCli(['grade', path.join(HOSTILE, fixture), '--challenges', challenges, '--json', json, '--quiet', ...extra]);
  expect(run.exitCode).toBe(0);
  return JSON.parse(await readFile(json, 'utf8')) as GradeResult;
}

/**
 * The most a run may be charged: its limit, plus the loan it gets once its
 * largest process is being killed (what the victim touches between the loan
 * and its death, and the next command's start, while its memory is given back).
 */
const underLimit = (limit: number) => limit + memoryLoanCap(limit);
async function waitUntil(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 20));
}
const check = (result: GradeResult, id: string) => result.checks.find((c) => c.id === id);
const recover = (result: GradeResult) => result.scripts?.find((s) => s.script === 'challenge2/recover.sh');

/** Control groups (named lockgrader-<grader pid>-...) whose grader has exited: a grading left them. */
async function leftoverGroups(): Promise<string[]> {
  const found: string[] = [];
  const exited = (pid: number) => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  };
  for (const parent of [...Object.values(cgroups.parents ?? {}), ...(cgroups.freezerParent ? [cgroups.freezerParent] : [])]) {
    const names = (await readdir(parent)).filter((name) => exited(Number(/^lockgrader-(\d+)-/.exec(name)?.[1] ?? process.pid)));
    found.push(...names.map((name) => path.join(parent, name)));
  }
  return found;
}

describe('resource limits of learner runs', () => {
  limitTest('the results list the limits in force and how each is enforced', async () => {
    const result = await grade('limit-memory-then-recover');
    expect(result.environment.limits).toEqual({
      memory_bytes: DEFAULT_LIMITS.memoryBytes,
      disk_bytes: DEFAULT_LIMITS.diskBytes,
      processes: DEFAULT_LIMITS.processes,
      cpu_seconds: DEFAULT_LIMITS.cpuSeconds,
      enforced: {
        memory: expect.stringMatching(/^cgroup v1 memory/),
        disk: expect.stringMatching(/tmpfs/),
        processes: 'cgroup v1 pids controller',
        cpu: expect.stringMatching(/cpuacct/),
      },
    });
    // A memory grab stopped at the limit, then the real recovery: full marks, the note in the output.
    expect(result.score).toBe(result.max_score);
    const script = recover(result);
    expect(script?.limits_reached?.map((hit) => hit.kind)).toEqual(['memory']);
    expect(script?.output).toMatch(/^\[lockgrader\] challenge2\/recover\.sh was stopped at the 1 GiB memory limit/);
    expect(script?.usage?.peak_memory_bytes).toBeLessThanOrEqual(underLimit(DEFAULT_LIMITS.memoryBytes));
    expect(script?.usage?.peak_memory_bytes).toBeGreaterThan(DEFAULT_LIMITS.memoryBytes / 2);
  }, 300_000);

  limitTest('memory: the script is stopped at its limit and the feedback says so', async () => {
    const result = await grade('limit-memory-stops-script');
    expect(result.status).toBe('graded');
    expect(check(result, 'c2.script-succeeds')?.feedback).toMatch(/^challenge2\/recover\.sh was stopped at the 1 GiB memory limit \(its largest process was killed\) and exited 137/);
    expect(recover(result)?.usage?.peak_memory_bytes).toBeLessThanOrEqual(underLimit(DEFAULT_LIMITS.memoryBytes));
  }, 300_000);

  limitTest('memory: a smaller limit from --script-memory is the one named', async () => {
    const result = await grade('limit-memory-stops-script', ['--script-memory', '256M']);
    expect(result.environment.limits?.memory_bytes).toBe(256 * 1024 * 1024);
    expect(check(result, 'c2.script-succeeds')?.feedback).toMatch(/stopped at the 256 MiB memory limit/);
    expect(recover(result)?.usage?.peak_memory_bytes).toBeLessThanOrEqual(underLimit(256 * 1024 * 1024));
  }, 300_000);

  limitTest('disk: a 1 GiB file stops at the 512 MiB working copy, nothing reaches the host disk', async () => {
    const result = await grade('limit-disk-stops-script');
    expect(check(result, 'c2.script-succeeds')?.feedback).toMatch(/^challenge2\/recover\.sh filled the 512 MiB disk limit of its working copy and HOME and exited 1/);
    expect(recover(result)?.output).toMatch(/No space left on device/);
    expect(recover(result)?.usage?.disk_bytes).toBeLessThanOrEqual(DEFAULT_LIMITS.diskBytes);
  }, 300_000);

  limitTest('processes: 1,000 sleeps stop at 512', async () => {
    const result = await grade('limit-processes-stops-script');
    expect(check(result, 'c2.script-succeeds')?.feedback).toMatch(/^challenge2\/recover\.sh reached the 512-process limit \(\d+ new process(es were| was) refused\)/);
    expect(recover(result)?.usage?.peak_processes).toBeLessThanOrEqual(DEFAULT_LIMITS.processes);
    expect(await processesMatching(/\bsleep 601\b/)).toEqual([]);
  }, 300_000);

  limitTest('CPU: two busy processes are stopped together at the run limit', async () => {
    const result = await grade('limit-cpu-stops-script', ['--script-cpu', '3']);
    expect(check(result, 'c2.script-succeeds')?.feedback).toMatch(/^challenge2\/recover\.sh was stopped at the 3 s CPU-time limit and exited/);
    const cpu = recover(result)?.usage?.cpu_ms ?? 0;
    // Together past 3 s (each alone stayed under RLIMIT_CPU's 3 s), and stopped soon after.
    expect(cpu).toBeGreaterThanOrEqual(3000);
    expect(cpu).toBeLessThan(6000);
  }, 300_000);

  // The freezer is part of the control groups here (CI's machines have it; so does this one).
  limitTest('a run that keeps forking is frozen, killed whole and thawed; its groups go with it', async () => {
    expect(cgroups.freezerParent).toBeDefined();
    const group = await RunCgroup.create(cgroups, { ...DEFAULT_LIMITS, processes: 64 });
    // Enters every group of the run (as the sandbox launcher does), then forks sleeps until the pids limit says no.
    const enter = group.procsFiles.map((file) => `echo $$ > ${file}`).join('; ');
    const storm = spawn('bash', ['-c', `${enter}; while :; do sleep 600 & done`], { stdio: 'ignore', detached: true });
    try {
      await waitUntil(async () => (await group.pids()).length >= 32);
      const killed = await group.killAll();
      expect(killed).toBeGreaterThanOrEqual(32);
      expect(await group.pids()).toEqual([]);
      const freezer = group.procsFiles.map(path.dirname).find((dir) => dir.startsWith(cgroups.freezerParent ?? '\0'));
      expect(freezer).toBeDefined();
      expect((await readFile(path.join(freezer ?? '', 'freezer.state'), 'utf8')).trim()).toBe('THAWED');
    } finally {
      storm.kill('SIGKILL');
      await group[Symbol.asyncDispose]();
    }
    expect(await processesMatching(/\bsleep 600\b/)).toEqual([]);
    expect(await leftoverGroups()).toEqual([]);
  }, 60_000);

  limitTest('the next grading is unaffected, and no process or control group is left', async () => {
    const result = await grade('../submissions/reference');
    expect(result.score).toBe(result.max_score);
    expect(recover(result)?.limits_reached).toBeUndefined();
    expect(await processesMatching(/\bsleep 601\b|\byes$/)).toEqual([]);
    expect(await leftoverGroups()).toEqual([]);
  }, 300_000);
});
