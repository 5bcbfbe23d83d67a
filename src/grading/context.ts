import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LabVariant } from '../backend/lab-variant.ts';
import type { GradingBackend } from '../backend/types.ts';
import type { CgroupSupport } from '../learner/cgroup.ts';
import type { ResourceLimits } from '../learner/limits.ts';
import type { SandboxInfo } from '../learner/sandbox.ts';
import { repoPath } from '../paths.ts';
import type { TerraformBinary } from '../terraform/locate.ts';
import { defaultRubric, type Rubric } from './checks.ts';

export const DEFAULT_SCRIPT_TIMEOUT_MS = 120_000;

/** What every challenge of one grading shares: an in-memory object, never written to a file. */
export interface GradingContext {
  /** The grading's private folder (submission copy, challenge folders); hidden from learner scripts. */
  runDir: string;
  /** The grading's private copy of the submission. */
  submission: string;
  /** The submission as given (for messages only; never written). */
  submissionLabel: string;
  /** Shared, or started privately by each lab (embedded, moto). */
  backend: GradingBackend;
  /** Which locks the lab uses (contract, "Lab variants"). */
  labVariant: LabVariant;
  terraform: TerraformBinary;
  /** How learner scripts are confined (kind "none" only with an explicit --no-sandbox). */
  sandbox: SandboxInfo;
  scriptTimeoutMs: number;
  /** What each learner run may take, and whether the kernel can hold it to memory and process limits here. */
  limits: ResourceLimits;
  cgroups: CgroupSupport;
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

/** The submission a grader suite grades when run on its own by Jest. */
export function defaultStandaloneSubmission(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.LOCKGRADER_SUBMISSION ?? repoPath('fixtures/submissions/reference'));
}

export async function makeRunDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'lockgrader-run-'));
}

export { defaultRubric };
