// `lockgrader verify`: every fixture against its expected.json, and a wrong
// expectation is caught with the mismatching cell named.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { FixtureOutcome } from '../../src/grading/verify.ts';
import { listFixtures } from '../../src/grading/verify.ts';
import { repoPath } from '../../src/paths.ts';
import { runCli } from '../support/cli.ts';
import { testEveryFixture } from '../support/fixture-outcomes.ts';

const fixtures = (await listFixtures(repoPath('fixtures/submissions'))).map((dir) => path.basename(dir));
let out: string;
let outcomes: FixtureOutcome[];
let exitCode: number | undefined;

beforeAll(async () => {
  out = await mkdtemp(path.join(tmpdir(), 'lockgrader-verify-test-'));
  const run = await runCli(['verify', '--json', path.join(out, 'verify.json'), '--junit', path.join(out, 'verify.xml')]);
  exitCode = run.exitCode;
  process.stdout.write(`${run.stdout}\n`);
  outcomes = JSON.parse(await readFile(path.join(out, 'verify.json'), 'utf8')) as FixtureOutcome[];
}, 1_800_000);

afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe('every fixture gets exactly its expected statuses', () => {
  test('verify exits 0', () => {
    expect(exitCode).toBe(0);
  });
  testEveryFixture(fixtures, () => outcomes);
});

test('a wrong expectation fails verify and names the cell', async () => {
  const root = path.join(out, 'edited');
  await cp(repoPath('fixtures/submissions/c1-missing'), path.join(root, 'c1-missing'), { recursive: true });
  const expectedFile = path.join(root, 'c1-missing', 'expected.json');
  const expected = JSON.parse(await readFile(expectedFile, 'utf8')) as { checks: Record<string, string> };
  expected.checks['c1.lock-id'] = 'pass';
  await writeFile(expectedFile, JSON.stringify(expected));
  const run = await runCli(['verify', '--fixtures', root]);
  expect(run.exitCode).toBe(1);
  expect(run.stdout).toContain('mismatch c1-missing × c1.lock-id: expected pass, got fail');
}, 300_000);
