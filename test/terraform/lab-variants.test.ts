// The lab variants (contract, "Lab variants"): the lockfile and both variants
// graded on moto (whose S3 honours If-None-Match: *), each with the fixtures
// that matter for it, and the embedded backend refusing them before anything
// runs. The dynamodb variant on moto agrees with the embedded backend on the
// reference and a raw delete (the full matrix is `verify --backend moto`; see
// docs/grading.md for its numbers). A subset, to keep CI time reasonable:
// each fixture's expected.json "variants" says where its expectations hold.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { findMoto } from '../../src/backend/moto.ts';
import type { FixtureOutcome } from '../../src/grading/verify.ts';
import { inCi } from '../support/ci.ts';
import { runCli } from '../support/cli.ts';

const moto = await findMoto();
const unavailable = 'problem' in moto ? moto.problem : undefined;
if (unavailable) process.stdout.write(`lab variants on moto SKIPPED: ${unavailable}\n`);
const onMoto = unavailable && !inCi() ? describe.skip : describe;

/** Which fixtures each variant's run grades on moto. */
const MATRIX = {
  // The lockfile reference; the two ways to break the .tflock by hand (aws s3 rm; overwrite it and force-unlock
  // your own ID) and a pipeline that reaps it; an honest force-unlock with the ID from the plan error; the Lock
  // Info read from the S3 lock error output.
  lockfile: ['reference-lockfile', 'c2-lockfile-cheat-s3-rm', 'c2-lockfile-cheat-overwrite-lock', 'c3-lockfile-cheat-s3-rm-lock', 'c2-honest-id-from-plan-error', 'c1-from-log'],
  // Both locks at once: the DynamoDB reference (reads the item) and -lock=false.
  both: ['reference', 'c2-lock-false'],
  // Cross-backend agreement on the seed's variant.
  dynamodb: ['reference', 'c2-raw-delete'],
} as const;

let out: string;
beforeAll(async () => {
  out = await mkdtemp(path.join(tmpdir(), 'lockgrader-variants-test-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

onMoto.each(Object.entries(MATRIX))('verify --backend moto --lab-variant %s', (variant, fixtures) => {
  let outcomes: FixtureOutcome[];
  let exitCode: number | undefined;
  beforeAll(async () => {
    const file = path.join(out, `${variant}.json`);
    const run = await runCli(['verify', '--backend', 'moto', '--lab-variant', variant, '--json', file, ...fixtures]);
    process.stdout.write(`${run.stdout}\n${run.stderr}\n`);
    exitCode = run.exitCode;
    outcomes = JSON.parse(await readFile(file, 'utf8')) as FixtureOutcome[];
  }, 1_200_000);

  test('exits 0', () => {
    expect(exitCode).toBe(0);
  });

  test.each([...fixtures])('%s: graded (not skipped), every check as expected', (fixture) => {
    const outcome = outcomes.find((o) => o.fixture === fixture);
    expect(outcome?.skipped).toBeUndefined();
    expect(outcome?.problems).toEqual([]);
    expect(outcome?.mismatches).toEqual([]);
    expect(outcome?.environment).toMatchObject({ backend: 'moto', lab_variant: variant, backend_description: expect.stringMatching(/^moto \d+\.\d+\.\d+ /) });
  });
});

describe('the embedded backend refuses the lockfile variants before anything runs', () => {
  test.each(['lockfile', 'both'])('grade --lab-variant %s: exit 2, naming the capability and the backends that have it; no results', async (variant) => {
    const json = path.join(out, `refused-${variant}.json`);
    const run = await runCli(['grade', 'fixtures/submissions/reference-lockfile', '--lab-variant', variant, '--json', json]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`--lab-variant ${variant} needs a backend whose S3 honours If-None-Match: \\*.*the embedded backend does not.*--backend moto`, 's'));
    await expect(stat(json)).rejects.toMatchObject({ code: 'ENOENT' });
  }, 60_000);

  test('verify --lab-variant lockfile on embedded: exit 2 as well', async () => {
    const run = await runCli(['verify', '--lab-variant', 'lockfile', 'reference-lockfile']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/If-None-Match/);
  }, 60_000);

  test('an unknown variant is a usage error', async () => {
    const run = await runCli(['grade', 'fixtures/submissions/reference', '--lab-variant', 'etcd']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/--lab-variant etcd: use one of dynamodb, lockfile, both/);
  }, 60_000);
});
