// Back-to-back gradings of the reference on one backend agree on every check
// and leave nothing behind (processes, listening ports, temp folders).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, test } from '@jest/globals';
import type { FixtureOutcome } from '../../src/grading/verify.ts';
import { runCli } from '../support/cli.ts';
import { listeningPorts, lockgraderTempDirs, processesMatching } from '../support/leftovers.ts';

const RUNS = Number(process.env.LOCKGRADER_REPEAT_RUNS ?? 20);
let out: string | undefined;

afterAll(async () => {
  if (out) await rm(out, { recursive: true, force: true });
});

test(`${RUNS} back-to-back gradings of the reference agree and leave nothing behind`, async () => {
  out = await mkdtemp(path.join(tmpdir(), 'lockgrader-repeat-test-'));
  const before = { temp: await lockgraderTempDirs(), ports: await listeningPorts(), procs: await processesMatching(/\b(tofu|terraform|bwrap)\b/) };
  const json = path.join(out, 'repeat.json');
  const started = performance.now();
  const run = await runCli(['verify', 'reference', '--repeat', String(RUNS), '--json', json]);
  const seconds = (performance.now() - started) / 1000;
  const [outcome] = JSON.parse(await readFile(json, 'utf8')) as FixtureOutcome[];
  const after = { temp: await lockgraderTempDirs(), ports: await listeningPorts(), procs: await processesMatching(/\b(tofu|terraform|bwrap)\b/) };
  const leftover = {
    temp: after.temp.filter((dir) => !before.temp.includes(dir)),
    ports: [...after.ports].filter((port) => !before.ports.has(port)),
    processes: after.procs.filter((proc) => !before.procs.includes(proc)),
  };
  process.stdout.write(
    `repeatability: ${outcome?.repeats?.identical} of ${outcome?.repeats?.runs} gradings identical in ${seconds.toFixed(1)} s; ` +
      `leftover processes ${leftover.processes.length}, ports ${leftover.ports.length}, temp folders ${leftover.temp.length}\n` +
      (outcome?.problems ?? []).map((problem) => `  ${problem}\n`).join(''),
  );
  expect(outcome?.problems).toEqual([]);
  expect(run.exitCode).toBe(0);
  expect(outcome?.repeats).toEqual({ runs: RUNS, identical: RUNS });
  expect(outcome?.score).toBe(100);
  expect(leftover).toEqual({ temp: [], ports: [], processes: [] });
}, 1_800_000);
