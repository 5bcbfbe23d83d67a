// Every command's options, in one table each: the parser takes its
// configuration from here and `lockgrader --help` is generated from the same
// rows, so the usage text cannot drift from what is parsed.
import { DEFAULT_QUEUE_NAME } from '../queue/queue-settings.ts';

export type OptionRow =
  | { type: 'string'; /** The value's placeholder in the usage text. */ value?: string; default?: string; help: string }
  | { type: 'boolean'; value?: undefined; default?: boolean; help: string };

/** What node:util parseArgs takes for one row. */
type ParseRow<R extends OptionRow> = R extends { type: 'boolean' } ? { type: 'boolean'; default?: boolean } : { type: 'string'; default?: string };

export interface CommandTable {
  /** The positional arguments, as the usage shows them. */
  positionals: string;
  summary: string;
  options: Readonly<Record<string, OptionRow>>;
}

const CHALLENGES = { type: 'string', value: '1,2,3', help: 'the challenges to grade (default all)' } as const;
const SCRIPT_TIMEOUT = { type: 'string', value: 'SECONDS', help: "a learner script's time limit (default 120)" } as const;
const BACKEND = { type: 'string', value: 'embedded|moto|localstack|endpoint', default: 'embedded', help: 'where the lab state lives (moto: the lockfile variants)' } as const;
const ENDPOINT = { type: 'string', value: 'URL', help: 'with --backend endpoint: URL, or s3=URL,dynamodb=URL' } as const;
const REDIS = { type: 'string', value: 'URL', help: 'redis://[:PASSWORD@]HOST:PORT[/DB] (default $LOCKGRADER_REDIS_URL)' } as const;
const QUEUE = { type: 'string', value: 'NAME', default: DEFAULT_QUEUE_NAME, help: `the BullMQ queue (default ${DEFAULT_QUEUE_NAME})` } as const;
/** What each learner run may take (src/learner/limits.ts; docs/grading.md "Resource limits"). */
const LIMITS = {
  'script-memory': { type: 'string', value: 'SIZE', help: "a learner run's memory, e.g. 512M (default 1G)" },
  'script-disk': { type: 'string', value: 'SIZE', help: 'size of each writable place of a run: working copy with HOME, /tmp (default 512M)' },
  'script-processes': { type: 'string', value: 'N', help: 'processes a run may have at once (default 512)' },
  'script-cpu': { type: 'string', value: 'SECONDS', help: "a run's CPU time, all its processes together (default 60)" },
} as const;
const LOCALSTACK_NETWORK = {
  type: 'string',
  value: 'auto|host|bridge',
  help: 'with --backend localstack: bridge (mapped port) or host network (default: LOCKGRADER_LOCALSTACK_NETWORK, else auto)',
} as const;
const NO_SANDBOX = { type: 'boolean', default: false, help: 'run learner scripts unconfined (the results say so)' } as const;
const LAB_VARIANT = {
  type: 'string',
  value: 'dynamodb|lockfile|both',
  default: 'dynamodb',
  help: 'the locks the lab uses: DynamoDB table, S3 .tflock (use_lockfile), or both; lockfile/both need --backend moto (or localstack)',
} as const;

export const COMMANDS = {
  grade: {
    positionals: 'SUBMISSION_DIR',
    summary: 'grade one submission; exit 0 graded, 1 below --fail-under, 2 usage, 3 grading could not complete',
    options: {
      challenges: CHALLENGES,
      backend: BACKEND,
      endpoint: ENDPOINT,
      'localstack-network': LOCALSTACK_NETWORK,
      'script-timeout': SCRIPT_TIMEOUT,
      ...LIMITS,
      json: { type: 'string', value: 'FILE', help: 'the results file' },
      junit: { type: 'string', value: 'FILE', help: 'JUnit XML' },
      gradescope: { type: 'string', value: 'FILE', help: "Gradescope's results.json" },
      report: { type: 'string', value: 'FILE.html', help: 'an HTML report with the lock timeline' },
      'fail-under': { type: 'string', value: 'SCORE', help: 'exit 1 when the score is below' },
      rubric: { type: 'string', value: 'FILE', help: 'points per check id ({"points": {...}})' },
      'lab-variant': LAB_VARIANT,
      reveal: { type: 'boolean', default: false, help: 'hidden values in the feedback (authors)' },
      quiet: { type: 'boolean', default: false, help: 'no summary, no progress lines' },
      keep: { type: 'boolean', default: false, help: "keep the grading's folder and print its path" },
      workers: { type: 'string', value: 'N', help: 'challenges graded at once (default 2: the longest beside the others; 1: one after another; 3: all at once)' },
      'no-sandbox': NO_SANDBOX,
      'progress-json': { type: 'boolean', default: false, help: 'challenge started/finished as JSON lines on stdout (queue workers)' },
      'stdin-lifeline': { type: 'boolean', default: false, help: 'stop as on SIGTERM when standard input closes (a worker\'s child)' },
    },
  },
  'grade-many': {
    positionals: 'SUBMISSION_DIR...',
    summary: 'N gradings at once, each with its own emulators and sandbox; one results JSON per folder (exit 0 all graded, 3 any error, 2 a folder missing)',
    options: {
      list: { type: 'string', value: 'FILE', help: 'more folders, one per line' },
      concurrency: { type: 'string', value: 'N', help: 'gradings at once (default: the cores)' },
      out: { type: 'string', value: 'DIR', help: 'where the results go (default reports/grade-many)' },
      challenges: CHALLENGES,
      'script-timeout': SCRIPT_TIMEOUT,
      ...LIMITS,
    },
  },
  enqueue: {
    positionals: 'SUBMISSION_DIR|s3://BUCKET/KEY...',
    summary: 'queue gradings for `lockgrader worker` (BullMQ on Redis); the same content and attempt is queued once (exit 0 queued/all graded, 2 a submission refused or unreadable, 3 a grading failed)',
    options: {
      redis: REDIS,
      queue: QUEUE,
      challenges: CHALLENGES,
      attempt: { type: 'string', value: 'N', help: "the learner's attempt, part of the job id (default 1)" },
      'script-timeout': SCRIPT_TIMEOUT,
      tries: { type: 'string', value: 'N', help: 'gradings of a job before it fails (default 3)' },
      backoff: { type: 'string', value: 'SECONDS', help: 'first retry delay, doubling (default 30)' },
      wait: { type: 'boolean', default: false, help: 'wait for every outcome; print each, write --out DIR/<name>.json' },
      out: { type: 'string', value: 'DIR', help: 'where --wait writes results (default reports/enqueue)' },
    },
  },
  worker: {
    positionals: '',
    summary: 'grade queued jobs, each in its own grade process; SIGTERM: no new jobs, finish or hand back the running ones, exit 0',
    options: {
      redis: REDIS,
      queue: QUEUE,
      concurrency: { type: 'string', value: 'N', help: 'gradings at once (default: the cores)' },
      's3-endpoint': { type: 'string', value: 'URL', help: 'S3-compatible store of s3:// jobs (default AWS; AWS_* credentials)' },
      grace: { type: 'string', value: 'SECONDS', help: 'on SIGTERM, time to finish before handing back (default 20)' },
      'stalled-seconds': { type: 'string', value: 'SECONDS', help: "a dead worker's job is taken over after this (default 30)" },
      'time-limit': { type: 'string', value: 'SECONDS', help: "one grading's limit; past it the job is retried (default 720)" },
    },
  },
  verify: {
    positionals: '[FIXTURE...]',
    summary: "every fixture against its expected.json (the lab's regression matrix)",
    options: {
      fixtures: { type: 'string', value: 'DIR', help: 'the fixtures folder (default fixtures/submissions)' },
      repeat: { type: 'string', value: 'N', help: 'grade each N times; all must agree' },
      json: { type: 'string', value: 'FILE', help: 'the outcomes as JSON' },
      junit: { type: 'string', value: 'FILE', help: 'JUnit XML' },
      backend: BACKEND,
      endpoint: ENDPOINT,
      'localstack-network': LOCALSTACK_NETWORK,
      'lab-variant': { ...LAB_VARIANT, help: 'grade the fixtures of this variant (expected.json "variants"; others are skipped)' },
      'no-sandbox': NO_SANDBOX,
      terraform: { type: 'string', value: 'PATH', help: 'the terraform/tofu binary to grade with (default: LOCKGRADER_TERRAFORM, else PATH, else the OpenTofu build)' },
    },
  },
  doctor: {
    positionals: '',
    summary: 'which terraform/tofu, backends, sandbox and learner tools this machine has',
    options: { json: { type: 'boolean', default: false, help: 'as JSON' }, 'localstack-network': LOCALSTACK_NETWORK },
  },
  'serve-backend': {
    positionals: '',
    summary: 'the embedded backend as a service; prints its endpoints as JSON',
    options: {},
  },
} as const satisfies Record<string, CommandTable>;

/** node:util parseArgs options from a table (type and default only). */
export function parseArgsOptions<T extends Record<string, OptionRow>>(options: T): { [K in keyof T]: ParseRow<T[K]> } {
  return Object.fromEntries(
    Object.entries(options).map(([name, row]) => [name, { type: row.type, ...(row.default !== undefined ? { default: row.default } : {}) }]),
  ) as { [K in keyof T]: ParseRow<T[K]> };
}

/** The usage text of every command, generated from the tables. */
export function usageText(): string {
  const lines = ['usage:'];
  for (const [name, table] of Object.entries(COMMANDS) as Array<[string, CommandTable]>) {
    lines.push(`  lockgrader ${name}${table.positionals ? ` ${table.positionals}` : ''}`, `      ${table.summary}`);
    for (const [option, row] of Object.entries(table.options)) {
      const flag = `--${option}${row.type === 'string' ? ` ${row.value ?? 'VALUE'}` : ''}`;
      lines.push(`      ${flag.padEnd(42)} ${row.help}`);
    }
  }
  return lines.join('\n');
}
