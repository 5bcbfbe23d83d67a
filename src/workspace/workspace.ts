import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LabStore } from '../backend/lab-store.ts';
import { LockgraderError } from '../errors.ts';
import { repoPath } from '../paths.ts';
import { awsEnvironment, renderBackendConfig } from '../terraform/backend-config.ts';
import type { CommandResult } from '../terraform/command-result.ts';
import type { TerraformBinary } from '../terraform/locate.ts';
import { runTerraform, startTerraform, type RunningCommand } from '../terraform/run.ts';

/** A private, initialised copy of the lab's Terraform module for one scenario; disposing removes it. */
export interface Workspace extends AsyncDisposable {
  /** The scenario's temp folder (holds dir/, home/ and gates). */
  root: string;
  /** The Terraform working directory. */
  dir: string;
  store: LabStore;
  terraform: TerraformBinary;
  /** The environment terraform runs with: AWS settings, automation flags, nothing of the grader's. */
  env: Record<string, string>;
  run(args: string[], options?: CommandOptions): Promise<CommandResult>;
  start(args: string[], options?: CommandOptions): RunningCommand;
  dispose(): Promise<void>;
}

export interface CommandOptions {
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Run under this host name (the holder whose Who a learner cannot guess). */
  hostname?: string;
  signal?: AbortSignal;
}

export interface CreateWorkspaceOptions {
  store: LabStore;
  terraform: TerraformBinary;
  /** The module to copy; the lab's terraform/ by default. */
  moduleDir?: string;
  /** Skip `init` (a caller that copies an initialised workspace). */
  skipInit?: boolean;
  timeoutMs?: number;
  /** Where the workspace's temp folder goes (the system temp folder by default). */
  parentDir?: string;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 120_000;

// Copies the module into a fresh temp folder, writes backend.hcl for the
// store and runs `init`. A failed init is an infrastructure fault (TERRAFORM_FAILED).
export async function createWorkspace(options: CreateWorkspaceOptions): Promise<Workspace> {
  const root = await mkdtemp(path.join(options.parentDir ?? tmpdir(), 'lockgrader-ws-'));
  const dir = path.join(root, 'work');
  const home = path.join(root, 'home');
  await mkdir(home);
  await cp(options.moduleDir ?? repoPath('terraform'), dir, { recursive: true });
  await writeFile(path.join(dir, 'backend.hcl'), renderBackendConfig(options.store));
  const cliConfig = path.join(home, '.terraformrc');
  await writeFile(cliConfig, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    CHECKPOINT_DISABLE: '1',
    TF_CLI_CONFIG_FILE: cliConfig,
    ...awsEnvironment(options.store),
  };
  const timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const workspace: Workspace = {
    root,
    dir,
    store: options.store,
    terraform: options.terraform,
    env,
    run: (args, runOptions = {}) =>
      runTerraform(args, { binary: options.terraform.path, cwd: dir, env: { ...env, ...runOptions.env }, timeoutMs: runOptions.timeoutMs ?? timeoutMs, hostname: runOptions.hostname, signal: runOptions.signal }),
    start: (args, runOptions = {}) =>
      startTerraform(args, { binary: options.terraform.path, cwd: dir, env: { ...env, ...runOptions.env }, timeoutMs: runOptions.timeoutMs ?? timeoutMs, hostname: runOptions.hostname, signal: runOptions.signal }),
    dispose: () => rm(root, { recursive: true, force: true }),
    [Symbol.asyncDispose]: () => rm(root, { recursive: true, force: true }),
  };
  if (!options.skipInit) {
    const init = await workspace.run(['init', '-input=false', '-no-color', '-backend-config=backend.hcl']);
    if (init.exitCode !== 0) {
      await workspace.dispose();
      throw new LockgraderError('TERRAFORM_FAILED', `terraform init failed (exit ${init.exitCode}): ${init.all.trim().split('\n').slice(-6).join(' ').slice(0, 600)}`, {
        command: 'init',
        exitCode: init.exitCode,
        output: init.all.slice(-4000),
      });
    }
  }
  return workspace;
}
