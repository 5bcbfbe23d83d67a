// Grading on the localstack backend (LocalStack's S3 in a container started by
// testcontainers, DynamoDB from dynalite): the reference scores 100 through the
// CLI, and `verify --backend localstack` gives every fixture the verdicts its
// expected.json names, the same ones the embedded backend gives (test/terraform/verify.test.ts).
// Runs where the localstack backend can (skipped with the reason elsewhere, failing in CI).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { localstackAvailability } from '../../src/backend/localstack.ts';
import type { GradeResult } from '../../src/grading/types.ts';
import { listFixtures, type FixtureOutcome } from '../../src/grading/verify.ts';
import { repoPath } from '../../src/paths.ts';
import { describeUnrunnable } from '../support/ci.ts';
import { runCli } from '../support/cli.ts';
import { testEveryFixture } from '../support/fixture-outcomes.ts';

const availability = await localstackAvailability();
const fixtures = (await listFixtures(repoPath('fixtures/submissions'))).map((dir) => path.basename(dir));

if (!availability.available) {
  describeUnrunnable('grading on the localstack backend', availability.reason);
} else {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(path.join(tmpdir(), 'lockgrader-localstack-test-'));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  test(`the reference scores 100 on LocalStack (--localstack-network ${availability.network})`, async () => {
    const results = path.join(out, 'reference.json');
    const run = await runCli(['grade', repoPath('fixtures/submissions/reference'), '--backend', 'localstack', '--localstack-network', availability.network ?? 'auto', '--json', results]);
    process.stdout.write(`${run.stdout}\n`);
    expect(run.exitCode).toBe(0);
    const result = JSON.parse(await readFile(results, 'utf8')) as GradeResult;
    expect({ status: result.status, score: result.score, max: result.max_score }).toEqual({ status: 'graded', score: 100, max: 100 });
    expect(result.environment.backend).toBe('localstack');
    expect(result.environment.backend_description).toMatch(new RegExp(`^LocalStack \\S+ S3 \\(${availability.image}, ${availability.network} network, testcontainers\\) \\+ dynalite \\S+ DynamoDB \\(in-process\\)$`));
  }, 600_000);

  describe('verify --backend localstack: every fixture as expected', () => {
    let outcomes: FixtureOutcome[] = [];
    let exitCode: number | undefined;
    beforeAll(async () => {
      const run = await runCli(['verify', '--backend', 'localstack', '--json', path.join(out, 'verify.json')], { timeoutMs: 1_800_000 });
      exitCode = run.exitCode;
      process.stdout.write(`${run.stdout}\n`);
      outcomes = JSON.parse(await readFile(path.join(out, 'verify.json'), 'utf8')) as FixtureOutcome[];
    }, 1_800_000);

    test('verify exits 0', () => {
      expect(exitCode).toBe(0);
    });
    testEveryFixture(fixtures, () => outcomes);
  });
}
