// The Jest grader suites (graders/, how lab authors run the graders) and
// `lockgrader grade` (which runs the same challenge definitions in process)
// give the same verdict on every check: the reference, and fixtures that fail
// different checks of each challenge.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { execa } from 'execa';
import type { GradeResult } from '../../src/grading/types.ts';
import { repoPath } from '../../src/paths.ts';
import { runCli } from '../support/cli.ts';

const CASES: Array<[string, number[]]> = [
  ['reference', [1, 2, 3]],
  ['c1-waiter-operation', [1]],
  ['c2-raw-delete', [2]],
  ['c3-no-lock-timeout', [3]],
];

let out: string;
beforeAll(async () => {
  out = await mkdtemp(path.join(tmpdir(), 'lockgrader-agree-test-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

interface JestJson {
  testResults: Array<{ assertionResults: Array<{ title: string; status: string }> }>;
}

async function jestVerdicts(fixture: string, challenges: number[]): Promise<Record<string, string>> {
  const config = {
    rootDir: repoPath(),
    testMatch: challenges.map((n) => `<rootDir>/graders/challenge${n}.grader.ts`),
    transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2023' } }] },
    extensionsToTreatAsEsm: ['.ts'],
    moduleFileExtensions: ['ts', 'js', 'json'],
    testEnvironment: 'node',
  };
  const json = path.join(out, `${fixture}-jest.json`);
  await execa(process.execPath, ['--experimental-vm-modules', '--no-warnings=ExperimentalWarning', repoPath('node_modules/jest/bin/jest.js'), '--config', JSON.stringify(config), '--json', '--outputFile', json, '--silent'], {
    cwd: repoPath(),
    reject: false,
    env: { LOCKGRADER_SUBMISSION: repoPath('fixtures/submissions', fixture) },
    timeout: 600_000,
  });
  const parsed = JSON.parse(await readFile(json, 'utf8')) as JestJson;
  return Object.fromEntries(parsed.testResults.flatMap((suite) => suite.assertionResults.map((a) => [a.title, a.status === 'passed' ? 'pass' : 'not-pass'])));
}

test.each(CASES)('%s: Jest suites and grade agree on every check', async (fixture, challenges) => {
  const json = path.join(out, `${fixture}-grade.json`);
  const run = await runCli(['grade', repoPath('fixtures/submissions', fixture), '--challenges', challenges.join(','), '--quiet', '--json', json]);
  expect(run.exitCode).toBe(0);
  const graded = JSON.parse(await readFile(json, 'utf8')) as GradeResult;
  const fromGrade = Object.fromEntries(graded.checks.filter((c) => c.status !== 'skipped').map((c) => [c.id, c.status === 'pass' ? 'pass' : 'not-pass']));
  const fromJest = await jestVerdicts(fixture, challenges);
  expect(fromJest).toEqual(fromGrade);
  if (fixture !== 'reference') expect(Object.values(fromGrade)).toContain('not-pass');
}, 900_000);
