// The results data model: what `grade` produces and what every writer
// (results JSON, JUnit, Gradescope, HTML) reads. Names follow
// ../shared/spec/lab-contract.md ("The results file").

export type ChallengeNumber = 1 | 2 | 3;

export type CheckStatus = 'pass' | 'fail' | 'error' | 'skipped';

export interface CheckResult {
  /** Stable contract id, e.g. "c2.lock-released". */
  id: string;
  challenge: ChallengeNumber;
  status: CheckStatus;
  score: number;
  max_score: number;
  /** What a learner can act on. */
  feedback: string;
  duration_ms: number;
  /** Values shown to authors only (e.g. the holder's Lock ID); never in learner feedback. */
  author_notes?: string;
  /** Set when the verdict does not rest on what the backend saw: "self-reported" (transcript mode), "static" (the text). */
  evidence?: 'backend' | 'self-reported' | 'static';
}

export interface TerraformEnvironment {
  binary: 'terraform' | 'tofu';
  version: string;
  path?: string;
}

export interface GradeEnvironment {
  terraform: TerraformEnvironment;
  backend: string;
  backend_description?: string;
  sandbox?: string;
  /** bubblewrap, or none (only with an explicit --no-sandbox). */
  sandbox_kind?: 'bubblewrap' | 'none';
  /** The lab variant graded (contract: dynamodb | lockfile | both). */
  lab_variant?: 'dynamodb' | 'lockfile' | 'both';
  /** What each learner run was allowed, and how this machine enforced it. */
  limits?: {
    memory_bytes: number;
    disk_bytes: number;
    processes: number;
    cpu_seconds: number;
    enforced: Record<'memory' | 'disk' | 'processes' | 'cpu', string>;
  };
}

/** Which limit a run hit, as data for the results and as words for the learner. */
export interface LimitHit {
  kind: 'memory' | 'disk' | 'processes' | 'cpu';
  /** The limit in force, in words ("1 GiB"). */
  limit: string;
  /** What happened, for feedback: "a process was killed at the 1 GiB memory limit". */
  message: string;
}

/** A learner script's run, kept for the feedback and the reports. */
export interface ScriptRun {
  challenge: ChallengeNumber;
  /** e.g. "challenge2/recover.sh" */
  script: string;
  exit_code: number | null;
  signal: string | null;
  timed_out: boolean;
  duration_ms: number;
  /** Capped stdout+stderr. */
  output: string;
  output_truncated: boolean;
  /** The resource limits the run reached (memory, disk, processes, CPU). */
  limits_reached?: LimitHit[];
  /** What the kernel counted for the run. */
  usage?: { peak_memory_bytes?: number; cpu_ms?: number; peak_processes?: number; disk_bytes?: number };
}

/** The kinds of timeline events the scenarios emit (the HTML report draws each). */
export type TimelineKind =
  | 'replay'
  | 'learner'
  | 'lock-held'
  | 'plan-failed'
  | 'lock-released'
  | 'apply-killed'
  | 'harness-plan'
  | 'script-start'
  | 'script-end'
  | 'learner-terraform'
  | 'store-damaged'
  | 'replay-error'
  | 'grader-error'
  | 'note';

/** What an event is about, as data (the HTML report draws from these, never from `detail`). */
export interface TimelineFacts {
  /** lock-held, lock-released, apply-killed: the lock's ID. */
  lock_id?: string;
  /** script-end, plan-failed, harness-plan, learner-terraform, lock-released: the exit code, or the signal that ended it. */
  exit?: string;
  /** script-start, script-end: how the run is named ("challenge3/pipeline.sh (concurrent run 1)"). */
  script?: string;
  /** script-start, script-end: the variant in that name ("concurrent run 1"). */
  variant?: string;
  /** script-end: the time limit stopped it. */
  timed_out?: boolean;
  /** script-end: the resource limits it reached. */
  limits_reached?: ('memory' | 'disk' | 'processes' | 'cpu')[];
  /** learner-terraform: the subcommand ("plan", "force-unlock"). */
  command?: string;
}

/** One event on the lock timeline (HTML report, debugging): `detail` is for people, the facts for programs. */
export interface TimelineEvent extends TimelineFacts {
  at_ms: number;
  challenge: ChallengeNumber;
  kind: TimelineKind | string;
  detail: string;
}

export interface GradeResult {
  lab: 'distributed-state-locking';
  status: 'graded' | 'error';
  score: number;
  max_score: number;
  duration_ms: number;
  environment: GradeEnvironment;
  checks: CheckResult[];
  /** Present when status is "error": what could not complete. */
  error?: { code: string; message: string };
  scripts?: ScriptRun[];
  timeline?: TimelineEvent[];
}

/** One recorded invocation of terraform/tofu by a learner script (the recording wrapper). */
export interface Invocation {
  /** "terraform" or "tofu": the name the script called. */
  tool: string;
  /** Arguments after the binary name. */
  args: string[];
  cwd: string;
  pid: number;
  /** Epoch milliseconds. */
  started_at: number;
  ended_at?: number;
  /** undefined while running or when the wrapper itself was killed. */
  exit_code?: number | null;
  signal?: string | null;
  tf_cli_args?: Record<string, string>; // TF_CLI_ARGS and every TF_CLI_ARGS_* in the command's environment (the recording wrapper)
}
