import type { BackendKind, GradingBackend } from '../backend/types.ts';
import { CHALLENGES } from '../challenges.ts';
import type { TerraformBinary } from '../terraform/locate.ts';
import { assembleResult } from './assemble.ts';
import type { Rubric } from './checks.ts';
import { runChallenge } from './run-challenge.ts';
import { openGradingSession } from './session.ts';
import type { ChallengeNumber, GradeResult } from './types.ts';

export interface GradeOptions {
  submission: string;
  challenges: ChallengeNumber[];
  backendKind?: BackendKind;
  endpoint?: string;
  /** The backend of many gradings (verify) instead of opening one. */
  backend?: GradingBackend;
  terraform?: TerraformBinary;
  scriptTimeoutMs?: number;
  rubric: Rubric;
  reveal?: boolean;
  /** Progress lines on stderr while grading. */
  progress?: boolean;
  /** Keep the grading's folder for debugging (its path is returned). */
  keep?: boolean;
  /** Run learner scripts without a sandbox (explicit --no-sandbox). */
  noSandbox?: boolean;
  /** Run the challenges one after another instead of in parallel. */
  sequential?: boolean;
  /** Aborting ends every process the grading started. */
  signal?: AbortSignal;
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
    terraform: options.terraform,
    scriptTimeoutMs: options.scriptTimeoutMs,
    rubric: options.rubric,
    reveal: options.reveal,
    progress: options.progress,
    keep: options.keep,
    noSandbox: options.noSandbox,
  });
  const { context } = session;
  const signal = options.signal ?? new AbortController().signal;
  const asked = [...options.challenges].sort();
  const outcomes = [];
  if (options.sequential) for (const challenge of asked) outcomes.push(await runChallenge(CHALLENGES[challenge], context, signal));
  else outcomes.push(...(await Promise.all(asked.map((challenge) => runChallenge(CHALLENGES[challenge], context, signal)))));
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
      lab_variant: 'dynamodb',
    },
    durationMs: performance.now() - started,
  });
  return {
    result,
    timings: { backendStartMs: session.backendStartMs, totalMs: performance.now() - started },
    ...(options.keep ? { keptDir: context.runDir } : {}),
  };
}
