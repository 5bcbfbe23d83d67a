import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BackendCredentials, BackendEndpoints, BackendKind } from '../backend/types.ts';
import { repoPath } from '../paths.ts';
import type { TerraformBinary } from '../terraform/locate.ts';
import { defaultRubric, type Rubric } from './checks.ts';

export const CONTEXT_VARIABLE = 'LOCKGRADER_CONTEXT';
export const DEFAULT_SCRIPT_TIMEOUT_MS = 120_000;

/** What `grade` hands the grader suites (as JSON in the file named by LOCKGRADER_CONTEXT). */
export interface GradingContext {
  /** Where suites write their outcomes (c1.json, ...). */
  runDir: string;
  /** The grading's private copy of the submission. */
  submission: string;
  /** The submission as given (for messages only; never written). */
  submissionLabel: string;
  backend: { kind: BackendKind; endpoints: BackendEndpoints; credentials: BackendCredentials; description: string };
  terraform: TerraformBinary;
  scriptTimeoutMs: number;
  rubric: Rubric;
  /** Authors: show hidden values (the right Lock ID) in feedback. */
  reveal: boolean;
  /** Keep the grading's folder (workspaces, learner copies, records) for debugging. */
  keep?: boolean;
  /** Print progress lines (challenge, scenario, elapsed) on stderr: a terminal, not --quiet. */
  progress?: boolean;
  /** Unique per grading: the prefix of its learner scripts' run tokens. */
  runId: string;
  /** Epoch ms the grading started (timeline origin). */
  startedAt: number;
}

export async function readContextFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<GradingContext | undefined> {
  const file = env[CONTEXT_VARIABLE];
  if (!file) return undefined;
  return JSON.parse(await readFile(file, 'utf8')) as GradingContext;
}

export function defaultStandaloneSubmission(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.LOCKGRADER_SUBMISSION ?? repoPath('fixtures/submissions/reference'));
}

export async function makeRunDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'lockgrader-run-'));
}

export { defaultRubric };
