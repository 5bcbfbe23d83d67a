// `lockgrader grade-many` end to end: two copies of the reference and one
// known-bad fixture graded two at a time, each with its own embedded emulators; one
// results file each, with exactly the statuses the fixtures' expected.json name.
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readExpectation } from '../../src/grading/verify.ts';
import type { GradeResult } from '../../src/grading/types.ts';
import { repoPath } from '../../src/paths.ts';
import { runCli, type CliRun } from '../support/cli.ts';

const CHALLENGES = [1, 2];
let root: string;
let out: string;
let run: CliRun;
const submissions: Record<string, string> = {
  'reference-a': '',
  'reference-b': '',
  'c2-unlock-only': repoPath('fixtures/submissions/c2-unlock-only'),
};

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'lockgrader-grade-many-test-'));
  out = path.join(root, 'out');
  for (const copy of ['reference-a', 'reference-b']) {
    submissions[copy] = path.join(root, copy);
    await cp(repoPath('fixtures/submissions/reference'), submissions[copy], { recursive: true });
  }
  run = await runCli(['grade-many', ...Object.values(submissions), '--concurrency', '2', '--challenges', CHALLENGES.join(','), '--out', out]);
  process.stdout.write(`${run.stdout}\n${run.stderr}\n`);
}, 600_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('grade-many --concurrency 2: two references and c2-unlock-only', () => {
  test('exits 0 (every submission graded) and prints one line each and a summary', () => {
    expect(run.exitCode).toBe(0);
    const lines = run.stdout.split('\n');
    for (const name of Object.keys(submissions)) expect(lines.filter((line) => line.startsWith('graded') && line.endsWith(`  ${name}`))).toHaveLength(1);
    expect(run.stdout).toMatch(/grade-many: 3 submissions — 3 graded, 0 error, 0 missing — [\d.]+ s wall at concurrency 2: [\d.]+ gradings\/minute/);
  });

  test('one results file per submission, named after its folder', async () => {
    expect((await readdir(out)).sort()).toEqual(Object.keys(submissions).map((name) => `${name}.json`).sort());
  });

  test.each(Object.keys(submissions))('%s: statuses as its expected.json says', async (name) => {
    const result = JSON.parse(await readFile(path.join(out, `${name}.json`), 'utf8')) as GradeResult;
    const fixture = name.startsWith('reference') ? repoPath('fixtures/submissions/reference') : (submissions[name] as string);
    const expectation = await readExpectation(fixture);
    expect(result.status).toBe('graded');
    expect(result.environment.backend).toBe('embedded');
    const asked = Object.entries(expectation.checks).filter(([id]) => CHALLENGES.includes(Number(id.slice(1, 2))));
    expect(asked.length).toBeGreaterThan(0);
    const got = Object.fromEntries(asked.map(([id]) => [id, result.checks.find((check) => check.id === id)?.status]));
    expect(got).toEqual(Object.fromEntries(asked));
    expect(result.checks.filter((check) => check.challenge === 3).every((check) => check.status === 'skipped')).toBe(true);
  });

  test('the two copies of the reference score the maximum', async () => {
    for (const name of ['reference-a', 'reference-b']) {
      const result = JSON.parse(await readFile(path.join(out, `${name}.json`), 'utf8')) as GradeResult;
      expect(result.score).toBe(result.max_score);
    }
  });
});

describe('grade-many usage errors', () => {
  test('a missing folder is listed and skipped, and the batch exits 2', async () => {
    const missing = path.join(root, 'no-such-submission');
    const result = await runCli(['grade-many', missing, '--out', path.join(root, 'out-missing')]);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toContain(`missing       -        -  no-such-submission  — ${missing} does not exist; skipped`);
    expect(await readdir(path.join(root, 'out-missing'))).toEqual([]);
  }, 60_000);

  test('no folder at all, or a bad --concurrency, is exit 2', async () => {
    expect((await runCli(['grade-many'])).exitCode).toBe(2);
    const bad = await runCli(['grade-many', repoPath('fixtures/submissions/reference'), '--concurrency', '0']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--concurrency takes a whole number >= 1');
  }, 60_000);
});
