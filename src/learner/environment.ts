import { randomUUID } from 'node:crypto';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { lockObjectUri, type LabStore } from '../backend/lab-store.ts';
import { awsEnvironment } from '../terraform/backend-config.ts';
import { RUN_TOKEN_VARIABLE } from './run-script.ts';
import { writeRecordingWrappers } from './recording-wrapper.ts';
import { installLearnerTools } from './tools.ts';

/** Everything a learner script runs with, for one challenge. */
export interface LearnerEnvironment {
  /** The learner's own initialised copy of the lab's working directory. */
  cwd: string;
  /** The read-only copy of the submission (LAB_SUBMISSION_DIR). */
  submissionDir: string;
  env: Record<string, string>;
  /** Where the recording wrapper writes (outside cwd and the submission copy). */
  recordsFile: string;
  /** The script's HOME, its bin folder (read-only in the sandbox) and the records folder. */
  home: string;
  binDir: string;
  recordDir: string;
  /** Tools the contract promises that were not found on this machine. */
  missingTools: string[];
  /** The real programs behind the tools' symlinks (the sandbox must show them). */
  toolPaths: string[];
}

export interface PrepareLearnerOptions {
  /** A folder private to this challenge (created inside the grading's temp root). */
  root: string;
  store: LabStore;
  /** The initialised workspace to copy for the learner. */
  workspaceDir: string;
  /** The grading's copy of the submission. */
  submissionCopy: string;
  terraformBinary: string;
  extraEnv?: Record<string, string>;
  /** Starts the script's run token, so a grader can find every script of one grading. */
  tokenPrefix?: string;
}

// Builds the learner's world of the contract ("What a learner script gets"):
// a copy of the working directory, PATH with the recording terraform/tofu,
// aws, jq and coreutils, and only the contract's variables.
export async function prepareLearnerEnvironment(options: PrepareLearnerOptions): Promise<LearnerEnvironment> {
  const cwd = path.join(options.root, 'work');
  const binDir = path.join(options.root, 'bin');
  const home = path.join(options.root, 'home');
  const recordDir = path.join(options.root, 'records');
  await mkdir(binDir, { recursive: true });
  await mkdir(home, { recursive: true });
  await mkdir(recordDir, { recursive: true });
  await cp(options.workspaceDir, cwd, { recursive: true });
  const recordsFile = path.join(recordDir, 'terraform.jsonl');
  await writeFile(recordsFile, '');
  await writeRecordingWrappers(binDir, options.terraformBinary, recordsFile);
  const { missingTools, toolPaths } = await installLearnerTools(binDir, home);
  const cliConfig = path.join(home, '.terraformrc');
  await writeFile(cliConfig, '');
  const env: Record<string, string> = {
    PATH: `${binDir}:/usr/bin:/bin`,
    HOME: home,
    LANG: 'C.UTF-8',
    TF_IN_AUTOMATION: '1',
    TF_CLI_CONFIG_FILE: cliConfig,
    CHECKPOINT_DISABLE: '1',
    ...awsEnvironment(options.store),
    LAB_STATE_BUCKET: options.store.bucket,
    LAB_STATE_KEY: options.store.key,
    // The variant's locks: the table only where one exists, the .tflock object's URI in the lockfile variants.
    ...(options.store.table !== undefined ? { LAB_LOCK_TABLE: options.store.table } : {}),
    ...(lockObjectUri(options.store) !== undefined ? { LAB_LOCK_OBJECT: lockObjectUri(options.store) } : {}),
    LAB_SUBMISSION_DIR: options.submissionCopy,
    [RUN_TOKEN_VARIABLE]: `${options.tokenPrefix ?? 'lockgrader'}.${randomUUID()}`,
    ...options.extraEnv,
  };
  return { cwd, submissionDir: options.submissionCopy, env, recordsFile, home, binDir, recordDir, missingTools, toolPaths };
}
