import { rmSync } from 'node:fs';
import { cp, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { assertBackendServesVariant, openGradingBackend } from '../backend/index.ts';
import { DEFAULT_LAB_VARIANT, type LabVariant } from '../backend/lab-variant.ts';
import type { LocalstackNetworkRequest } from '../backend/localstack-container.ts';
import type { BackendKind, GradingBackend } from '../backend/types.ts';
import { LockgraderError } from '../errors.ts';
import { assertBinaryServesVariant } from '../terraform/binary-variants.ts';
import { locateTerraform, type TerraformBinary } from '../terraform/locate.ts';
import { registerExitCleanup } from '../util/exit-cleanup.ts';
import { defaultRubric, type Rubric } from './checks.ts';
import { detectCgroups } from '../learner/cgroup.ts';
import { DEFAULT_LIMITS, type ResourceLimits } from '../learner/limits.ts';
import { detectSandbox, noSandbox, type SandboxInfo } from '../learner/sandbox.ts';
import { DEFAULT_SCRIPT_TIMEOUT_MS, makeRunDir, type GradingContext } from './context.ts';

export interface OpenSessionOptions {
  submission: string;
  /** The backend of many gradings (verify, tests); else one is opened and stopped with the session. */
  backend?: GradingBackend;
  backendKind?: BackendKind;
  endpoint?: string;
  /** With the localstack backend: its network mode (host, bridge, auto). */
  localstackNetwork?: LocalstackNetworkRequest;
  terraform?: TerraformBinary;
  /** The lab variant (default dynamodb); a backend that cannot serve it is refused before anything runs. */
  labVariant?: LabVariant;
  scriptTimeoutMs?: number;
  rubric?: Rubric;
  reveal?: boolean;
  progress?: boolean;
  /** Keep the run folder after grading (debugging); its path is in GradingSession.context.runDir. */
  keep?: boolean;
  /** Run learner scripts without a sandbox (must be asked for explicitly). */
  noSandbox?: boolean;
  /** What each learner run may take (defaults: DEFAULT_LIMITS). */
  limits?: Partial<ResourceLimits>;
}

// The sandbox learner scripts run in: detected, or none when asked for; a
// machine without one refuses to grade (SANDBOX_UNAVAILABLE) rather than run
// learner code unconfined.
export async function chooseSandbox(noSandboxAsked: boolean | undefined): Promise<SandboxInfo> {
  if (noSandboxAsked) return noSandbox('--no-sandbox');
  const sandbox = await detectSandbox();
  if (sandbox.unavailable) {
    throw new LockgraderError(
      'SANDBOX_UNAVAILABLE',
      `learner scripts must run in a sandbox and none can run here (${sandbox.unavailable}). ` +
        'Install bubblewrap and socat (./dev does this on Debian as root; apt-get install bubblewrap socat), or pass --no-sandbox to grade without isolation.',
      { reason: sandbox.unavailable },
    );
  }
  return sandbox;
}

/** Everything one grading needs, set up; close() (or await using) removes what it made. */
export interface GradingSession extends AsyncDisposable {
  context: GradingContext;
  backend: GradingBackend;
  /** Milliseconds spent starting the backend (0 when shared). */
  backendStartMs: number;
  close(): Promise<void>;
}

/** The gradings open in this process, run id -> run folder (to end their scripts on a signal). */
export const openRuns = new Map<string, string>();

// Checks the submission is a readable folder (else SUBMISSION_UNREADABLE).
export async function assertSubmissionFolder(submission: string): Promise<void> {
  let info;
  try {
    info = await stat(submission);
  } catch {
    throw new LockgraderError('SUBMISSION_UNREADABLE', `submission ${submission} does not exist`, { submission });
  }
  if (!info.isDirectory()) {
    throw new LockgraderError('SUBMISSION_UNREADABLE', `submission ${submission} is not a folder (a submission is a folder holding challenge1/, challenge2/, challenge3/)`, { submission });
  }
}

// Copies the submission (the original is never touched again), finds
// terraform and the sandbox, starts or joins a backend.
export async function openGradingSession(options: OpenSessionOptions): Promise<GradingSession> {
  const submission = path.resolve(options.submission);
  const labVariant = options.labVariant ?? DEFAULT_LAB_VARIANT;
  await assertSubmissionFolder(submission);
  // A usage error before anything starts: the embedded backend cannot serve the lockfile variants.
  if (options.backend) assertBackendServesVariant(options.backend, labVariant);
  else assertBackendServesVariant({ kind: options.backendKind ?? 'embedded' }, labVariant);
  const sandbox = await chooseSandbox(options.noSandbox);
  const runDir = await makeRunDir();
  let ownedBackend: GradingBackend | undefined;
  try {
    const copy = path.join(runDir, 'submission');
    await cp(submission, copy, { recursive: true, dereference: false, verbatimSymlinks: true }).catch((error: unknown) => {
      throw new LockgraderError('SUBMISSION_UNREADABLE', `cannot read submission ${submission}: ${(error as Error).message}`, { submission });
    });
    const terraform = options.terraform ?? (await locateTerraform());
    assertBinaryServesVariant(terraform, labVariant);
    const backend = options.backend ?? (ownedBackend = await openGradingBackend(options.backendKind ?? 'embedded', { endpoint: options.endpoint, localstackNetwork: options.localstackNetwork }));
    const context: GradingContext = {
      runDir,
      runId: path.basename(runDir),
      submission: copy,
      submissionLabel: submission,
      backend,
      labVariant,
      terraform,
      sandbox,
      limits: { ...DEFAULT_LIMITS, ...options.limits },
      cgroups: await detectCgroups(),
      scriptTimeoutMs: options.scriptTimeoutMs ?? DEFAULT_SCRIPT_TIMEOUT_MS,
      rubric: options.rubric ?? defaultRubric(),
      reveal: options.reveal ?? false,
      progress: options.progress ?? false,
      keep: options.keep ?? false,
      startedAt: Date.now(),
    };
    openRuns.set(context.runId, runDir);
    const unregister = registerExitCleanup(() => rmSync(runDir, { recursive: true, force: true }));
    const close = async () => {
      openRuns.delete(context.runId);
      unregister();
      await ownedBackend?.stop();
      if (!options.keep) await rm(runDir, { recursive: true, force: true });
    };
    return {
      context,
      backend,
      backendStartMs: ownedBackend?.shared?.startMs ?? 0,
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (error) {
    await ownedBackend?.stop();
    await rm(runDir, { recursive: true, force: true });
    throw error;
  }
}

