import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { assertBackendServesVariant, openGradingBackend } from '../backend/index.ts';
import { DEFAULT_LAB_VARIANT, LAB_VARIANTS, type LabVariant } from '../backend/lab-variant.ts';
import type { LocalstackNetworkRequest } from '../backend/localstack-container.ts';
import type { BackendKind } from '../backend/types.ts';
import { LockgraderError } from '../errors.ts';
import { detectCgroups } from '../learner/cgroup.ts';
import { parseLimitOptions, type ResourceLimits } from '../learner/limits.ts';
import { assertBinaryServesVariant } from '../terraform/binary-variants.ts';
import { locateTerraform } from '../terraform/locate.ts';
import { CHECKS, defaultRubric } from './checks.ts';
import { gradeSubmission } from './grade.ts';
import type { ChallengeNumber, CheckStatus, GradeResult } from './types.ts';

/** Why a fixture cannot be graded here (its requires), or undefined. */
async function unmetRequirement(expectation: FixtureExpectation, noSandbox: boolean | undefined): Promise<string | undefined> {
  if (expectation.requires === undefined) return undefined;
  if (noSandbox) return `needs a sandbox for learner scripts, and verify ran with --no-sandbox`;
  if (expectation.requires !== 'limits') return undefined;
  const cgroups = await detectCgroups();
  return cgroups.available ? undefined : `needs memory and process limits, which this machine does not enforce (${cgroups.reason})`;
}

/** A fixture's script_limits, read like the command's --script-* flags. */
function fixtureLimits(expectation: FixtureExpectation): Partial<ResourceLimits> | undefined {
  const given = expectation.script_limits;
  if (!given) return undefined;
  return parseLimitOptions({ 'script-memory': given.memory, 'script-disk': given.disk, 'script-processes': given.processes, 'script-cpu': given.cpu_seconds });
}

/** A fixture's expected.json. */
export interface FixtureExpectation {
  description?: string;
  challenges: ChallengeNumber[];
  checks: Record<string, CheckStatus>;
  /** A shorter script time limit for fixtures that hang on purpose. */
  script_timeout_seconds?: number;
  /**
   * "sandbox": only graded where learner scripts run sandboxed (the fixture attacks the machine);
   * "limits": only where the kernel holds memory and process limits too (control groups).
   */
  requires?: 'sandbox' | 'limits';
  /** Limits other than the defaults for this fixture (e.g. a short CPU limit for a fixture that burns CPU). */
  script_limits?: { memory?: string; disk?: string; processes?: string; cpu_seconds?: string };
  /** The lab variants whose expectations these are (default ["dynamodb"]); verify --lab-variant skips the others. */
  variants?: LabVariant[];
}

/** The variants a fixture's expectations hold for. */
export function fixtureVariants(expectation: FixtureExpectation): LabVariant[] {
  return expectation.variants ?? [DEFAULT_LAB_VARIANT];
}

/** Fixtures named reference* (reference, reference-lockfile) must score the maximum. */
export function isReferenceFixture(name: string): boolean {
  return name === 'reference' || name.startsWith('reference-');
}

export interface FixtureCell {
  check: string;
  expected: CheckStatus;
  got: CheckStatus;
  feedback: string;
}

export interface FixtureOutcome {
  fixture: string;
  description: string;
  status: GradeResult['status'];
  score: number;
  max_score: number;
  duration_ms: number;
  cells: FixtureCell[];
  mismatches: FixtureCell[];
  /** Problems that are not cells: reference below max, unknown check ids, grading threw. */
  problems: string[];
  /** Set when the fixture was not graded here, with the reason. */
  skipped?: string;
  /** With repeat > 1: how many gradings agreed with the first on every check's status and score. */
  repeats?: { runs: number; identical: number };
  /** What it was graded with (terraform, backend and its version, lab variant), as in the results file. */
  environment?: GradeResult['environment'];
}

// Status and score of every check: what must agree between repeated gradings.
function signature(result: GradeResult): string {
  return result.checks.map((check) => `${check.id}=${check.status}:${check.score}`).join(',');
}

export async function readExpectation(fixtureDir: string): Promise<FixtureExpectation> {
  const file = path.join(fixtureDir, 'expected.json');
  let parsed: FixtureExpectation;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8')) as FixtureExpectation;
  } catch (error) {
    throw new LockgraderError('USAGE', `${file}: ${(error as Error).message}`, { file });
  }
  if (!Array.isArray(parsed.challenges) || typeof parsed.checks !== 'object') {
    throw new LockgraderError('USAGE', `${file} needs "challenges": [..] and "checks": {id: status}`, { file });
  }
  if (parsed.variants !== undefined && (!Array.isArray(parsed.variants) || !parsed.variants.every((v) => (LAB_VARIANTS as readonly string[]).includes(v)))) {
    throw new LockgraderError('USAGE', `${file}: "variants" is a list of ${LAB_VARIANTS.join(', ')}`, { file });
  }
  return parsed;
}

export async function listFixtures(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true });
  return entries.filter((entry) => entry.isDirectory()).map((entry) => path.join(root, entry.name)).sort();
}

// Grades every fixture (sharing one backend and terraform) and compares each
// check's status with the fixture's expected.json. The reference fixture must
// also score the maximum of its challenges.
export async function verifyFixtures(options: {
  root: string;
  only?: string[];
  backendKind?: BackendKind;
  endpoint?: string;
  /** With the localstack backend: its network mode (host, bridge, auto). */
  localstackNetwork?: LocalstackNetworkRequest;
  /** Grade the fixtures of this lab variant (default dynamodb); the others are skipped. */
  labVariant?: LabVariant;
  /** Grade each fixture this many times (default 1); all must agree. */
  repeat?: number;
  /** Grade without a sandbox (explicit); fixtures that need one are skipped. */
  noSandbox?: boolean;
  /** The terraform/tofu binary to grade with (verify --terraform); default: locateTerraform's search. */
  terraformPath?: string;
  onFixture?: (outcome: FixtureOutcome) => void;
}): Promise<FixtureOutcome[]> {
  const fixtures = (await listFixtures(options.root)).filter((dir) => !options.only?.length || options.only.includes(path.basename(dir)));
  const labVariant = options.labVariant ?? DEFAULT_LAB_VARIANT;
  assertBackendServesVariant({ kind: options.backendKind ?? 'embedded' }, labVariant);
  const terraform = await locateTerraform(process.env, options.terraformPath);
  // A usage error before any backend starts: a binary without use_lockfile cannot grade the lockfile variants.
  assertBinaryServesVariant(terraform, labVariant);
  const backend = await openGradingBackend(options.backendKind ?? 'embedded', { endpoint: options.endpoint, localstackNetwork: options.localstackNetwork });
  const outcomes: FixtureOutcome[] = [];
  try {
    for (const dir of fixtures) {
      const name = path.basename(dir);
      const expectation = await readExpectation(dir);
      const variants = fixtureVariants(expectation);
      const skipped = !variants.includes(labVariant)
        ? `a fixture of the ${variants.join(', ')} variant${variants.length > 1 ? 's' : ''}, not ${labVariant}`
        : await unmetRequirement(expectation, options.noSandbox);
      if (skipped) {
        const outcome: FixtureOutcome = { fixture: name, description: expectation.description ?? '', status: 'graded', score: 0, max_score: 0, duration_ms: 0, cells: [], mismatches: [], problems: [], skipped };
        outcomes.push(outcome);
        options.onFixture?.(outcome);
        continue;
      }
      const problems: string[] = [];
      const known = new Set(CHECKS.map((check) => check.id));
      for (const id of Object.keys(expectation.checks)) if (!known.has(id)) problems.push(`expected.json names unknown check "${id}"`);
      let result: GradeResult | undefined;
      const runs = Math.max(1, options.repeat ?? 1);
      let identical = 0;
      for (let run = 0; run < runs; run += 1) {
        try {
          const graded = await gradeSubmission({
            submission: dir,
            challenges: expectation.challenges,
            backend,
            terraform,
            labVariant,
            rubric: defaultRubric(),
            noSandbox: options.noSandbox,
            scriptTimeoutMs: expectation.script_timeout_seconds === undefined ? undefined : expectation.script_timeout_seconds * 1000,
            limits: fixtureLimits(expectation),
          });
          result ??= graded.result;
          if (signature(graded.result) === signature(result)) identical += 1;
          else {
            const first = result;
            const differing = graded.result.checks.filter((check) => first.checks.find((c) => c.id === check.id)?.status !== check.status);
            for (const check of differing) problems.push(`grading ${run + 1}: ${check.id} was ${check.status} (first grading: ${first.checks.find((c) => c.id === check.id)?.status}): ${check.feedback}`);
          }
        } catch (error) {
          problems.push(`grading ${run + 1} failed: ${(error as Error).message}`);
        }
      }
      if (runs > 1 && identical !== runs) problems.push(`only ${identical} of ${runs} gradings agreed with the first`);
      const cells: FixtureCell[] = Object.entries(expectation.checks)
        .filter(([id]) => known.has(id))
        .map(([id, expected]) => {
          const got = result?.checks.find((check) => check.id === id);
          return { check: id, expected, got: got?.status ?? 'error', feedback: got?.feedback ?? '' };
        });
      if (isReferenceFixture(name) && result && result.score < result.max_score) problems.push(`the reference scored ${result.score}/${result.max_score}`);
      const outcome: FixtureOutcome = {
        fixture: name,
        description: expectation.description ?? '',
        status: result?.status ?? 'error',
        score: result?.score ?? 0,
        max_score: result?.max_score ?? 0,
        duration_ms: result?.duration_ms ?? 0,
        cells,
        mismatches: cells.filter((cell) => cell.expected !== cell.got),
        problems,
        ...(result ? { environment: result.environment } : {}),
        ...(runs > 1 ? { repeats: { runs, identical } } : {}),
      };
      outcomes.push(outcome);
      options.onFixture?.(outcome);
    }
  } finally {
    await backend.stop();
  }
  return outcomes;
}
