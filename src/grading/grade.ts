import type { StartedBackend } from '../backend/types.ts';
import type { BackendKind } from '../backend/types.ts';
import type { TerraformBinary } from '../terraform/locate.ts';
import { detectSandbox } from '../learner/sandbox.ts';
import { assembleResult } from './assemble.ts';
import type { Rubric } from './checks.ts';
import { runGraderSuites } from './run-graders.ts';
import { openGradingSession } from './session.ts';
import type { ChallengeNumber, GradeResult } from './types.ts';

export interface GradeOptions {
  submission: string;
  challenges: ChallengeNumber[];
  backendKind?: BackendKind;
  endpoint?: string;
  /** Share a running backend instead of starting one. */
  backend?: StartedBackend;
  terraform?: TerraformBinary;
  scriptTimeoutMs?: number;
  rubric: Rubric;
  reveal?: boolean;
  maxWorkers?: number;
  verbose?: boolean;
  /** Progress lines on stderr while grading. */
  progress?: boolean;
  /** Keep the grading's folder for debugging (its path is returned). */
  keep?: boolean;
}

export interface GradeTimings {
  backendStartMs: number;
  jestStartMs: number;
  totalMs: number;
}

// Grades one submission: sets up the session (copy, terraform, backend), runs
// the asked challenges' grader suites and assembles the results. Throws only
// for usage errors and faults before grading could start.
export async function gradeSubmission(options: GradeOptions): Promise<{ result: GradeResult; timings: GradeTimings; keptDir?: string }> {
  const started = performance.now();
  const session = await openGradingSession({
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
  });
  try {
    const run = await runGraderSuites(options.challenges, session.contextFile, { maxWorkers: options.maxWorkers, verbose: options.verbose });
    const { context } = session;
    const result = await assembleResult({
      runDir: context.runDir,
      challenges: options.challenges,
      rubric: options.rubric,
      environment: {
        terraform: { binary: context.terraform.flavour, version: context.terraform.version, path: context.terraform.path },
        backend: context.backend.kind,
        backend_description: context.backend.description,
        sandbox: (await detectSandbox()).description,
      },
      durationMs: performance.now() - started,
      suiteErrors: run.suiteErrors,
    });
    return {
      result,
      timings: { backendStartMs: session.backendStartMs, jestStartMs: run.jestStartMs, totalMs: performance.now() - started },
      ...(options.keep ? { keptDir: context.runDir } : {}),
    };
  } finally {
    await session.close();
  }
}
