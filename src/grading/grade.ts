import type { LocalstackNetworkRequest } from '../backend/localstack-container.ts';
import type { LabVariant } from '../backend/lab-variant.ts';
import type { BackendKind, GradingBackend } from '../backend/types.ts';
import { CHALLENGES } from '../challenges.ts';
import { limitsEnforcement, type ResourceLimits } from '../learner/limits.ts';
import type { TerraformBinary } from '../terraform/locate.ts';
import { assembleResult } from './assemble.ts';
import type { Rubric } from './checks.ts';
import { mapLimited } from '../util/map-limited.ts';
import { runChallenge } from './run-challenge.ts';
import { openGradingSession } from './session.ts';
import type { ChallengeNumber, GradeResult } from './types.ts';

/** A challenge started or finished (what a queue worker reports as its job's progress). */
export interface GradeProgress {
  event: 'challenge-started' | 'challenge-finished';
  challenge: ChallengeNumber;
  /** challenge-finished: its score and whether a harness fault kept it from being graded. */
  score?: number;
  max_score?: number;
  error?: string;
}

export interface GradeOptions {
  submission: string;
  challenges: ChallengeNumber[];
  backendKind?: BackendKind;
  endpoint?: string;
  /** With the localstack backend: its network mode (host, bridge, auto). */
  localstackNetwork?: LocalstackNetworkRequest;
  /** The backend of many gradings (verify) instead of opening one. */
  backend?: GradingBackend;
  terraform?: TerraformBinary;
  /** The lab variant (default dynamodb). */
  labVariant?: LabVariant;
  scriptTimeoutMs?: number;
  rubric: Rubric;
  reveal?: boolean;
  /** Progress lines on stderr while grading. */
  progress?: boolean;
  /** Keep the grading's folder for debugging (its path is returned). */
  keep?: boolean;
  /** Run learner scripts without a sandbox (explicit --no-sandbox). */
  noSandbox?: boolean;
  /** How many challenges are graded at once (default DEFAULT_CHALLENGES_AT_ONCE; 1: one after another). */
  challengesAtOnce?: number;
  /** Aborting ends every process the grading started. */
  signal?: AbortSignal;
  /** Called as each challenge starts and finishes. */
  onProgress?: (progress: GradeProgress) => void;
  /** What each learner run may take (the rest from DEFAULT_LIMITS). */
  limits?: Partial<ResourceLimits>;
}

/**
 * Two lanes: challenge 3 (the longest) in one, 1 then 2 in the other. A full grading takes about as long as with all
 * three at once (1 and 2 together take about as long as 3), with one challenge's terraform and AWS CLI processes
 * fewer at its peak (docs/scaling.md).
 */
export const DEFAULT_CHALLENGES_AT_ONCE = 2;

/** The asked challenges, longest first (by typicalSeconds), then in the contract's order. */
export function startOrder(asked: readonly ChallengeNumber[]): ChallengeNumber[] {
  return [...asked].sort((a, b) => CHALLENGES[b].typicalSeconds - CHALLENGES[a].typicalSeconds || a - b);
}

export interface GradeTimings {
  backendStartMs: number;
  totalMs: number;
}

// Grades one submission in this process: sets up the session (copy,
// terraform, sandbox, backend), runs the asked challenges' definitions in
// parallel (each has its own bucket, lock table, relays and working copies)
// and assembles the results in the contract's order. Throws only for usage
// errors and faults before grading could start.
export async function gradeSubmission(options: GradeOptions): Promise<{ result: GradeResult; timings: GradeTimings; keptDir?: string }> {
  const started = performance.now();
  await using session = await openGradingSession({
    submission: options.submission,
    backend: options.backend,
    backendKind: options.backendKind,
    endpoint: options.endpoint,
    localstackNetwork: options.localstackNetwork,
    terraform: options.terraform,
    labVariant: options.labVariant,
    scriptTimeoutMs: options.scriptTimeoutMs,
    rubric: options.rubric,
    reveal: options.reveal,
    progress: options.progress,
    keep: options.keep,
    noSandbox: options.noSandbox,
    limits: options.limits,
  });
  const { context } = session;
  const signal = options.signal ?? new AbortController().signal;
  const asked = [...options.challenges].sort();
  const run = async (challenge: ChallengeNumber) => {
    options.onProgress?.({ event: 'challenge-started', challenge });
    const outcome = await runChallenge(CHALLENGES[challenge], context, signal);
    const score = outcome.checks.reduce((sum, check) => sum + check.score, 0);
    const max = outcome.checks.reduce((sum, check) => sum + check.max_score, 0);
    options.onProgress?.({ event: 'challenge-finished', challenge, score, max_score: max, ...(outcome.error ? { error: outcome.error.code } : {}) });
    return outcome;
  };
  const order = startOrder(asked);
  const byStart = await mapLimited(order, options.challengesAtOnce ?? DEFAULT_CHALLENGES_AT_ONCE, run);
  const outcomes = asked.map((challenge) => byStart[order.indexOf(challenge)]!);
  const result = assembleResult({
    outcomes,
    challenges: asked,
    rubric: options.rubric,
    environment: {
      terraform: { binary: context.terraform.flavour, version: context.terraform.version, path: context.terraform.path },
      backend: context.backend.kind,
      backend_description: context.backend.description,
      sandbox: context.sandbox.description,
      sandbox_kind: context.sandbox.kind,
      lab_variant: context.labVariant,
      limits: {
        memory_bytes: context.limits.memoryBytes,
        disk_bytes: context.limits.diskBytes,
        processes: context.limits.processes,
        cpu_seconds: context.limits.cpuSeconds,
        enforced: limitsEnforcement(context.cgroups.reason, context.sandbox.kind !== 'none'),
      },
    },
    durationMs: performance.now() - started,
  });
  return {
    result,
    timings: { backendStartMs: session.backendStartMs, totalMs: performance.now() - started },
    ...(options.keep ? { keptDir: context.runDir } : {}),
  };
}
