// The binary matrix (issue 14, item 7): `verify` gives the same verdicts with
// the machine's Terraform, the pinned OpenTofu and an older OpenTofu built the
// same way from the Go module proxy (scripts/build-opentofu.sh VERSION), for
// the variants each binary serves (src/terraform/binary-variants.ts). The older
// one has no use_lockfile: it is never asked for the lockfile variants, and
// verify refuses them with a usage error (asserted below, and printed).
//
// A subset of fixtures, to keep CI time in check (each grading is ~5-20 s and
// the full dynamodb set takes ~6 min per binary): every fixture whose verdict
// rests on what the binary prints or how it takes and releases locks: the
// Lock Info parsed from a live contention log, the lock ID from a plan's lock
// error, force-unlock with a right and a wrong ID, a raw delete instead of
// force-unlock, -lock=false, -lock-timeout too short or missing, TF_CLI_ARGS,
// plus the reference (every check). The full matrix is `verify --terraform
// PATH` per binary; docs/backends.md has its numbers.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { findMoto } from '../../src/backend/moto.ts';
import type { FixtureOutcome } from '../../src/grading/verify.ts';
import { binaryVariants } from '../../src/terraform/binary-variants.ts';
import { cacheDir, describeBinary, OLDER_TOFU_VERSION, PINNED_TOFU_VERSION, type TerraformFlavour } from '../../src/terraform/locate.ts';
import { findOnPath, isExecutable } from '../../src/util/find-on-path.ts';
import { describeUnrunnable, inCi } from '../support/ci.ts';
import { runCli } from '../support/cli.ts';

/** The dynamodb-variant fixtures every binary grades (embedded backend). */
const DYNAMODB_FIXTURES = [
  'reference',
  'c1-from-log',
  'c1-honest-log-sed-awk',
  'c2-honest-id-from-plan-error',
  'c2-honest-item-force-unlock',
  'c2-hardcoded-id',
  'c2-raw-delete',
  'c2-lock-false',
  'c3-short-timeout',
  'c3-no-lock-timeout',
  'c3-force-unlock-first',
  'c3-cheat-tf-cli-args-lock-false',
] as const;

/** The lockfile-variant fixtures every binary with use_lockfile grades (moto backend). */
const LOCKFILE_FIXTURES = ['reference-lockfile', 'c2-honest-id-from-plan-error', 'c2-lockfile-cheat-s3-rm'] as const;

interface MatrixBinary {
  label: string;
  path: string;
  flavour: TerraformFlavour;
  version: string;
}

// The three binaries: where each is expected and what to do when it is not there.
const wanted: Array<{ label: string; find: () => Promise<string | undefined>; missing: string }> = [
  {
    label: `OpenTofu ${PINNED_TOFU_VERSION} (pinned)`,
    find: async () => cachedBuild(PINNED_TOFU_VERSION),
    missing: `no OpenTofu ${PINNED_TOFU_VERSION} build in the cache: run scripts/build-opentofu.sh (.ci/run does)`,
  },
  {
    label: `OpenTofu ${OLDER_TOFU_VERSION} (older release)`,
    find: async () => cachedBuild(OLDER_TOFU_VERSION),
    missing: `no OpenTofu ${OLDER_TOFU_VERSION} build in the cache: run scripts/build-opentofu.sh ${OLDER_TOFU_VERSION} (.ci/run does)`,
  },
  {
    label: "the machine's Terraform",
    find: async () => findOnPath('terraform', process.env.PATH ?? ''),
    missing: 'no terraform on PATH (Terraform after 1.5.7 is not built from the Go module proxy here, nor downloadable: install it to run this arm)',
  },
];

async function cachedBuild(version: string): Promise<string | undefined> {
  const binary = path.join(cacheDir(), 'opentofu', `v${version}`, 'tofu');
  return (await isExecutable(binary)) ? binary : undefined;
}

const binaries: MatrixBinary[] = [];
for (const entry of wanted) {
  const found = await entry.find();
  if (found === undefined) {
    describeUnrunnable(`binary matrix: ${entry.label}`, entry.missing);
    continue;
  }
  binaries.push({ label: entry.label, path: found, ...(await describeBinary(found)) });
}

const moto = await findMoto();
const motoProblem = 'problem' in moto ? moto.problem : undefined;

let out: string;
beforeAll(async () => {
  out = await mkdtemp(path.join(tmpdir(), 'lockgrader-binary-matrix-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

/** Each binary's outcomes per variant, for the agreement test at the end. */
const graded = new Map<string, FixtureOutcome[]>();

function verifyArm(binary: MatrixBinary, variant: 'dynamodb' | 'lockfile', fixtures: readonly string[]): void {
  describe(`${binary.flavour} ${binary.version}: verify --lab-variant ${variant}`, () => {
    let outcomes: FixtureOutcome[];
    let exitCode: number | undefined;
    beforeAll(async () => {
      const file = path.join(out, `${binary.flavour}-${binary.version}-${variant}.json`);
      const backend = variant === 'dynamodb' ? [] : ['--backend', 'moto', '--lab-variant', variant];
      const started = Date.now();
      const run = await runCli(['verify', '--terraform', binary.path, ...backend, '--json', file, ...fixtures], { timeoutMs: 1_500_000 });
      process.stdout.write(`binary matrix: ${binary.label} ${binary.path}, ${variant}: ${((Date.now() - started) / 1000).toFixed(1)} s\n${run.stdout}\n${run.stderr}\n`);
      exitCode = run.exitCode;
      outcomes = JSON.parse(await readFile(file, 'utf8')) as FixtureOutcome[];
      graded.set(`${binary.label}|${variant}`, outcomes);
    }, 1_600_000);

    test('exits 0', () => {
      expect(exitCode).toBe(0);
    });

    test.each([...fixtures])('%s: graded with this binary, every check as expected', (fixture) => {
      const outcome = outcomes.find((o) => o.fixture === fixture);
      expect(outcome?.skipped).toBeUndefined();
      expect(outcome?.problems).toEqual([]);
      expect(outcome?.mismatches).toEqual([]);
      expect(outcome?.environment?.terraform).toMatchObject({ binary: binary.flavour, version: binary.version, path: binary.path });
    });
  });
}

for (const binary of binaries) {
  const served = binaryVariants(binary);
  verifyArm(binary, 'dynamodb', DYNAMODB_FIXTURES);
  if (served.variants.includes('lockfile')) {
    if (motoProblem && !inCi()) describeUnrunnable(`binary matrix: ${binary.label} lockfile`, `moto is not available: ${motoProblem}`);
    else verifyArm(binary, 'lockfile', LOCKFILE_FIXTURES);
    continue;
  }
  // Not asked for what it cannot serve: said, and verify's refusal asserted.
  const notServed = ['lockfile', 'both'].filter((variant) => !served.variants.includes(variant as 'lockfile'));
  process.stdout.write(`binary matrix: ${binary.label} is not asked for ${notServed.join(', ')}: ${served.reason}\n`);
  test(`${binary.flavour} ${binary.version}: verify --lab-variant lockfile is refused before anything runs (${served.reason})`, async () => {
    const run = await runCli(['verify', '--terraform', binary.path, '--backend', 'moto', '--lab-variant', 'lockfile', 'reference-lockfile']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`--lab-variant lockfile cannot be graded with ${binary.path}: `);
    expect(run.stderr).toContain('use_lockfile');
  }, 120_000);
  test(`${binary.flavour} ${binary.version}: grade --lab-variant both with it (LOCKGRADER_TERRAFORM) is refused too, with no results`, async () => {
    const json = path.join(out, `refused-grade-${binary.version}.json`);
    const run = await runCli(['grade', 'fixtures/submissions/reference', '--backend', 'moto', '--lab-variant', 'both', '--json', json], { env: { LOCKGRADER_TERRAFORM: binary.path } });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`--lab-variant both cannot be graded with ${binary.path}: `);
    await expect(readFile(json, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  }, 120_000);
}

test('doctor lists every binary of the matrix with the variants it serves', async () => {
  const run = await runCli(['doctor', '--json']);
  const report = JSON.parse(run.stdout) as { terraform_binaries: Array<{ path: string; flavour?: string; version?: string; lab_variants: string[] }> };
  for (const binary of binaries) {
    expect(report.terraform_binaries).toContainEqual(
      expect.objectContaining({ path: binary.path, flavour: binary.flavour, version: binary.version, lab_variants: binaryVariants(binary).variants }),
    );
  }
}, 180_000);

test('every binary gave every fixture the same status on every check', () => {
  expect(binaries.length).toBeGreaterThan(0);
  for (const variant of ['dynamodb', 'lockfile']) {
    const runs = [...graded.entries()].filter(([key]) => key.endsWith(`|${variant}`));
    const table = (outcomes: FixtureOutcome[]) =>
      Object.fromEntries(outcomes.filter((o) => !o.skipped).map((o) => [o.fixture, Object.fromEntries(o.cells.map((cell) => [cell.check, cell.got]))]));
    const first = runs[0];
    if (first === undefined) continue;
    for (const [label, outcomes] of runs.slice(1)) {
      expect({ [label]: table(outcomes) }).toEqual({ [label]: table(first[1]) });
    }
  }
});
