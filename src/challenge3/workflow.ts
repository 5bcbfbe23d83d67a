// Turns a learner's GitHub Actions workflow (challenge3/workflow.yml) into an
// ordered list of shell steps, and renders them as one bash script that runs
// them the way a Linux runner would: jobs in YAML order but after the jobs
// they `needs:`, each step in a fresh subshell, stopping at the first failure.
//
// The run is simulated as a push to the default branch (SimulatedEvent: the
// workflow's push trigger and its first plain branch, else workflow_dispatch,
// else its first trigger), so `if:` conditions and `${{ }}` expressions are
// evaluated (workflow-expression.ts) against that github context, the env
// context and runner.os; `${{ github.run_id }}`, `${{ github.workspace }}` and
// `${{ secrets.NAME }}` become run-time references. `continue-on-error: true`
// lets a failing step pass, and what a step writes to $GITHUB_ENV and
// $GITHUB_PATH reaches the steps after it, as on a runner (an env: of the
// workflow, job or step still wins over $GITHUB_ENV, as on GitHub). No actions
// other than the setup ones treated as done, no matrix expansion, containers or
// services; an `if:` on earlier steps' outputs (steps.<id>.outputs.<name>,
// what they wrote to $GITHUB_OUTPUT), or on a needed job's outputs mapped from
// its steps', is decided when the step or job is reached (workflow-step-outputs.ts). Everything not run as on GitHub is
// named in `unsupported` so the feedback can say so; no expression is blanked
// silently.
//
// Secrets: the grader's "secrets" are the variables it gives every learner
// script (HARNESS_SECRETS: the AWS_* and LAB_* ones). `${{ secrets.AWS_REGION }}`
// becomes the reference `${AWS_REGION}`, expanded when the step runs, so
// `env: { AWS_ACCESS_KEY_ID: ${{ secrets.AWS_ACCESS_KEY_ID }} }` keeps the
// harness's value (and sets nothing when the harness has no such variable, e.g.
// AWS_ENDPOINT_URL with two endpoints). In run: text the reference is left to
// the step's shell, which expands it everywhere but inside single quotes (where
// GitHub would have pasted the value). Any other secret is empty, as on GitHub
// when a secret does not exist, and is named in `emptySecrets` and `unsupported`.

import { parseDocument } from 'yaml';
import { type ContextResolver, type ExpressionValue, evaluateExpression, falsy, toText } from './workflow-expression.ts';
import { OUTPUT_FUNCTIONS, type RuntimeCondition, renderRuntimeTest, runtimeCondition } from './workflow-step-outputs.ts';

export interface WorkflowStep {
  /** The job's id (its key under `jobs:`). */
  job: string;
  name: string;
  /** The step's `run:` text, expressions substituted. */
  run: string;
  /** workflow < job < step `env:`, expressions substituted. */
  env: Record<string, string>;
  workingDirectory?: string;
  /** The command the runner uses, e.g. "bash --noprofile --norc -eo pipefail" or "sh -e". */
  shell: string;
  /** `continue-on-error: true`: a failure of this step does not stop the run. */
  continueOnError?: boolean;
  /** The step's `id:` (lower case), whose outputs later steps' if: may read. */
  id?: string;
  /** `if:` conditions on outputs (the step's own, its job's, those of the jobs its job needs), decided when the step is reached (workflow-step-outputs.ts). */
  runIf?: Deferred[];
  /** After hashicorp/setup-terraform with its wrapper on: `terraform` writes its exitcode, stdout and stderr as step outputs. */
  terraformWrapper?: boolean;
}

export interface WorkflowPlan {
  steps: WorkflowStep[];
  /** `uses:` steps treated as already done (checkout, setup-terraform, ...). */
  satisfied: string[];
  /** What the run assumed to evaluate the workflow (the simulated event), said once when an if: or expression needed it. */
  assumptions: string[];
  /** What will not run, or not run as on GitHub (including every empty secret and unevaluated expression). */
  unsupported: string[];
  /** Names of `${{ secrets.NAME }}` the grader does not provide: they are empty here. */
  emptySecrets: string[];
  /** The event the run stands for (if: conditions and expressions are evaluated for it). */
  event: SimulatedEvent;
  /**
   * The `run:` texts of shell steps not run here (their if: false for this event, their job skipped, their shell not
   * supported), as written: the static scans read them too, as they read a pipeline.sh's branches that did not run
   * (c3-cheat-workflow-pr-lock-false: `apply -lock=false` in a step for pull requests only passed c3.no-unlocked-writes).
   */
  notRun: string[];
}

type Mapping = Record<string, unknown>;

const SATISFIED_ACTIONS = new Set([
  'actions/checkout',
  'hashicorp/setup-terraform',
  'opentofu/setup-opentofu',
  'aws-actions/configure-aws-credentials',
]);

/** Runner commands per `shell:`; an absent shell is GitHub's `bash -e {0}` (no pipefail). */
const SHELLS: Record<string, string> = {
  bash: 'bash --noprofile --norc -eo pipefail',
  sh: 'sh -e',
};
const DEFAULT_SHELL = 'bash -e';

/** Options a custom bash/sh shell may carry: single-letter flags, -o/+o NAME, and the long ones bash takes before a script. */
const SHELL_OPTION = /^([-+][A-Za-z]+|--(noprofile|norc|login|posix))$/;

/**
 * The runner command for a step's `shell:`: bash or sh, or GitHub's custom
 * form `COMMAND [options] {0}` ("bash -euo pipefail {0}", "bash -l {0}",
 * "sh -ex {0}") for bash or sh with options only; undefined when not supported.
 */
export function shellCommand(shellName: string | undefined): string | undefined {
  if (shellName === undefined) return DEFAULT_SHELL;
  if (Object.hasOwn(SHELLS, shellName)) return SHELLS[shellName];
  const custom = /^(bash|sh)((?:\s+\S+)*?)\s+\{0\}$/.exec(shellName.trim());
  if (!custom) return undefined;
  const words = (custom[2] ?? '').trim().split(/\s+/).filter((word) => word !== '');
  for (let i = 0; i < words.length; i += 1) {
    const word = words[i] ?? '';
    if (!SHELL_OPTION.test(word)) return undefined;
    // a flag group ending in o ("-o", "-euo") takes the option's name next ("pipefail")
    if (/^[-+][A-Za-z]*o$/.test(word)) {
      if (!/^[a-z]+$/.test(words[i + 1] ?? '')) return undefined;
      i += 1;
    }
  }
  return [custom[1], ...words].join(' ');
}

/** The variables the harness gives learner scripts: the secrets a workflow can use here. */
export const HARNESS_SECRETS: ReadonlySet<string> = new Set([
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_S3',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'LAB_STATE_BUCKET',
  'LAB_STATE_KEY',
  'LAB_LOCK_TABLE',
  'LAB_LOCK_OBJECT',
]);

/** `github.*` values known only at run time, rendered as references to the variables holding them. */
const GITHUB_RUNTIME: Record<string, string> = { 'github.run_id': 'GITHUB_RUN_ID', 'github.workspace': 'GITHUB_WORKSPACE' };

/** Every `${NAME}` the renderer leaves for bash to expand when the step runs. */
const RUNTIME_NAMES = [...HARNESS_SECRETS, ...Object.values(GITHUB_RUNTIME)];
const RUNTIME_REFERENCE = new RegExp(`(\\$\\{(?:${RUNTIME_NAMES.join('|')})\\})`);
const HARNESS_REFERENCE = new RegExp(`^\\$\\{(${[...HARNESS_SECRETS].join('|')})\\}$`);

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether a parsed YAML value is a mapping. */
function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A scalar YAML value as GitHub sees it (numbers and booleans as text, null as ""). */
function scalarText(value: unknown): string | undefined {
  if (value === null) return '';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/**
 * Replaces `${{ ... }}` expressions: env.X from `env`, secrets of the harness and
 * github.run_id/workspace as run-time references, anything else with "" and a
 * note naming it.
 */
function substitute(text: string, env: Record<string, string>, where: string, plan: WorkflowPlan): string {
  return text.replace(/\$\{\{\s*([\s\S]*?)\s*\}\}/g, (_whole, expression: string) => {
    const envRef = /^env\.([A-Za-z_][A-Za-z0-9_-]*)$|^env\[\s*'([^']+)'\s*\]$/.exec(expression);
    if (envRef) {
      const name = envRef[1] ?? envRef[2] ?? '';
      const value = env[name];
      if (value !== undefined) return value;
      note(plan.unsupported, `${where}: \${{ ${expression} }} is empty: ${name} is not set in an env: of the workflow, job or step (the env context does not hold the runner's variables)`);
      return '';
    }
    // Secret names are case-insensitive on GitHub.
    const secret = /^secrets\.([A-Za-z_][A-Za-z0-9_]*)$|^secrets\[\s*'([^']+)'\s*\]$/i.exec(expression);
    if (secret) {
      const name = (secret[1] ?? secret[2] ?? '').toUpperCase();
      if (HARNESS_SECRETS.has(name)) return `\${${name}}`;
      if (!plan.emptySecrets.includes(name)) plan.emptySecrets.push(name);
      note(plan.unsupported, `${where}: secret ${name} is empty here: the grader provides only the lab's variables as secrets (${[...HARNESS_SECRETS].join(', ')})`);
      return '';
    }
    if (Object.hasOwn(GITHUB_RUNTIME, expression)) return `\${${GITHUB_RUNTIME[expression]}}`;
    const evaluated = tryEvaluate(expression, contexts(env, plan, false, where));
    if (evaluated.ok && evaluated.unknown.length === 0) {
      assume(plan, expression);
      return toText(evaluated.value);
    }
    const why = evaluated.ok ? `${evaluated.unknown.join(', ')} ${evaluated.unknown.length === 1 ? 'is' : 'are'} not known here` : evaluated.error;
    note(plan.unsupported, `${where}: \${{ ${expression} }} is not evaluated here (${why}); it becomes an empty string`);
    return '';
  });
}

/** The event a graded run stands for: a push to the default branch when the workflow has a push trigger. */
interface SimulatedEvent {
  name: string;
  ref: string;
  branch: string;
  /** workflow_dispatch: each declared input at its default ('' without one), as a manual run that changes nothing. */
  inputs?: Record<string, ExpressionValue>;
}

/** The declared inputs of a workflow_dispatch trigger, at their defaults. */
function dispatchInputs(config: unknown): Record<string, ExpressionValue> {
  const declared = isMapping(config) ? config['inputs'] : undefined;
  const inputs: Record<string, ExpressionValue> = {};
  if (!isMapping(declared)) return inputs;
  for (const [name, spec] of Object.entries(declared)) {
    const fallback = isMapping(spec) ? spec['default'] : undefined;
    inputs[name] = typeof fallback === 'string' || typeof fallback === 'number' || typeof fallback === 'boolean' ? fallback : '';
  }
  return inputs;
}

/** Picks the event from `on:`: push (its first plain branch, else main), else workflow_dispatch, else the first trigger. */
export function simulatedEvent(on: unknown): SimulatedEvent {
  const triggers = typeof on === 'string' ? [on] : Array.isArray(on) ? on.map(String) : isMapping(on) ? Object.keys(on) : [];
  const name = triggers.includes('push') ? 'push' : triggers.includes('workflow_dispatch') ? 'workflow_dispatch' : (triggers[0] ?? 'push');
  const config = isMapping(on) ? on[name] : undefined;
  const branches = isMapping(config) && Array.isArray(config['branches']) ? config['branches'].map(String) : [];
  const branch = branches.find((b) => !/[*?[\]!]/.test(b)) ?? 'main';
  if (name === 'pull_request' || name === 'pull_request_target') return { name, ref: 'refs/pull/1/merge', branch };
  if (name === 'workflow_dispatch') return { name, ref: `refs/heads/${branch}`, branch, inputs: dispatchInputs(config) };
  return { name, ref: `refs/heads/${branch}`, branch };
}

/**
 * The contexts of the simulated run: github.* of the event, env.* (a name not
 * set is null, as on GitHub), inputs.* of a workflow_dispatch run (their
 * defaults), runner.*, vars.* (null: the grader has no
 * configuration variables, said in `unsupported`); in conditions also the
 * harness secrets (non-empty).
 */
function contexts(env: Record<string, string>, plan: WorkflowPlan, condition: boolean, where: string): ContextResolver {
  const event = plan.event;
  const pull = event.name === 'pull_request' || event.name === 'pull_request_target';
  const github: Record<string, ExpressionValue> = {
    event_name: event.name,
    ref: event.ref,
    ref_name: pull ? '1/merge' : event.branch,
    ref_type: 'branch',
    head_ref: pull ? 'feature' : '',
    base_ref: pull ? event.branch : '',
    repository: 'learner/lab',
    repository_owner: 'learner',
    actor: 'learner',
    server_url: 'https://github.com',
  };
  return (path) => {
    const [context, name, ...rest] = path;
    // inputs.X, and github.event.inputs.X (its older spelling), of a workflow_dispatch run; null for another event, as on GitHub
    if (context === 'inputs' && name !== undefined && rest.length === 0) return event.inputs?.[name] ?? null;
    if (context === 'github' && name === 'event' && rest[0] === 'inputs' && rest.length === 2) {
      const value = event.inputs?.[rest[1] ?? ''];
      return value === undefined || value === null ? null : toText(value);
    }
    // The event payload is not simulated: its fields are null (as those of another event are on GitHub), and said.
    if (context === 'github' && name === 'event') {
      if (rest.length === 0) return {};
      note(plan.unsupported, `${where}: github.event.${rest.join('.')} is empty here: the run has no event payload`);
      return null;
    }
    const known = KNOWN.get(plan);
    if (context === 'needs' && name !== undefined && rest.length === 1 && rest[0] === 'result') return known?.needs[name];
    if (context === 'steps' && name !== undefined && rest.length === 1 && (rest[0] === 'outcome' || rest[0] === 'conclusion')) return known?.steps[name];
    if (name === undefined || rest.length > 0) return undefined;
    if (context === 'github') return Object.hasOwn(github, name) ? github[name] : undefined;
    if (context === 'env') return Object.hasOwn(env, name) ? env[name] : null;
    if (context === 'vars') {
      note(plan.unsupported, `${where}: vars.${name} is empty here: the grader has no configuration variables`);
      return null;
    }
    if (context === 'runner') return ({ os: 'Linux', arch: 'X64' } as Record<string, string>)[name];
    if (context === 'secrets' && condition) return HARNESS_SECRETS.has(name.toUpperCase()) ? '***' : undefined;
    return undefined;
  };
}

/** Evaluates an expression, catching syntax errors and unsupported functions. */
function tryEvaluate(expression: string, resolve: ContextResolver): { ok: true; value: ExpressionValue; unknown: string[] } | { ok: false; error: string } {
  try {
    return { ok: true, ...evaluateExpression(expression, resolve) };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

/** Says once which event the run stands for, when an expression read the github context. */
function assume(plan: WorkflowPlan, expression: string): void {
  if (!/\b(github|inputs)\b/i.test(expression)) return;
  const { name, ref, inputs } = plan.event;
  const given = inputs === undefined ? '' : `, its inputs at their defaults (${Object.entries(inputs).map(([key, value]) => `${key} ${JSON.stringify(value)}`).join(', ') || 'none declared'})`;
  note(plan.assumptions, `expressions are evaluated for a ${name} event on ${ref} (github.event_name '${name}', github.ref '${ref}'${given})`);
}

/**
 * Results known before the run, per plan: needs.<job>.result of the jobs the
 * current job needs (it runs only after they succeeded, or they were skipped),
 * and steps.<id>.outcome/conclusion of the current job's earlier steps (a step
 * that ran without continue-on-error succeeded, since a failure stops the
 * run; one skipped is 'skipped'; a continue-on-error step's is known only at
 * run time and stays unknown).
 */
interface KnownResults {
  job: string;
  needs: Record<string, string>;
  steps: Record<string, string | undefined>;
  /** Ids (lower case) of the job's run: steps planned so far: their outputs can decide a later if: at run time. */
  runIds: Set<string>;
  /** hashicorp/setup-terraform ran earlier in the job with its wrapper on (the default). */
  terraformWrapper: boolean;
  /** Per job planned so far: its `outputs:` that are one of its run: steps' outputs, as output keys (workflow-step-outputs.ts). */
  jobOutputs: Map<string, Record<string, string>>;
}

/** An if: decided at run time. */
export interface Deferred {
  text: string;
  condition: RuntimeCondition;
}
const KNOWN = new WeakMap<WorkflowPlan, KnownResults>();

/** Records a step's result under its id for the steps after it. */
function knowStep(plan: WorkflowPlan, step: Mapping, result: string | undefined): void {
  const id = scalarText(step['id']);
  const known = KNOWN.get(plan);
  if (id !== undefined && id !== '' && known !== undefined) known.steps[id] = result;
}

/** Adds a message once. */
function note(list: string[], message: string): void {
  if (!list.includes(message)) list.push(message);
}

/** Reads an `env:` mapping, substituting expressions against the outer env. */
function readEnv(value: unknown, outer: Record<string, string>, where: string, plan: WorkflowPlan): Record<string, string> {
  const env: Record<string, string> = {};
  if (value === undefined) return env;
  if (!isMapping(value)) {
    note(plan.unsupported, `${where}: env: must be a mapping here; it is ignored`);
    return env;
  }
  for (const [name, raw] of Object.entries(value)) {
    const text = scalarText(raw);
    if (!ENV_NAME.test(name) || text === undefined) {
      note(plan.unsupported, `${where}: env ${name} is not a plain NAME: value pair; it is ignored`);
      continue;
    }
    env[name] = substitute(text, outer, where, plan);
  }
  return env;
}

/** The `defaults.run` mapping of a workflow or job ({} when absent). */
function runDefaults(node: Mapping): Mapping {
  const defaults = node['defaults'];
  const run = isMapping(defaults) ? defaults['run'] : undefined;
  return isMapping(run) ? run : {};
}

/** Why a job or step does not run, and whether GitHub would skip it too for the simulated event. */
interface Skip {
  reason: string;
  asOnGitHub: boolean;
}

/**
 * Why an `if:` condition keeps its job or step from running here, or undefined
 * when it runs: evaluated for the simulated event; a condition that reads an
 * unknown context or cannot be parsed does not run (and says so).
 */
function conditionSkips(condition: unknown, env: Record<string, string>, plan: WorkflowPlan, where: string): Skip | undefined {
  if (condition === undefined || condition === null) return undefined;
  const text = scalarText(condition);
  if (text === undefined) return { reason: `its if: ${String(condition)} cannot be evaluated here`, asOnGitHub: false };
  const bare = text.trim().replace(/^\$\{\{\s*([\s\S]*?)\s*\}\}$/, '$1').trim();
  const evaluated = tryEvaluate(bare, contexts(env, plan, true, where));
  if (!evaluated.ok) return { reason: `its if: ${text} cannot be evaluated here (${evaluated.error})`, asOnGitHub: false };
  if (evaluated.unknown.length > 0) {
    return { reason: `its if: ${text} cannot be evaluated here (${evaluated.unknown.join(', ')} ${evaluated.unknown.length === 1 ? 'is' : 'are'} not known here)`, asOnGitHub: false };
  }
  assume(plan, bare);
  return falsy(evaluated.value) ? { reason: `its if: ${text} is false for this run`, asOnGitHub: true } : undefined;
}

/** A job's `outputs:` that are exactly one of its run: steps' outputs (`${{ steps.plan.outputs.changes }}`), as output keys. */
function mappedOutputs(outputs: unknown, jobId: string, runIds: ReadonlySet<string>): Record<string, string> {
  const mapped: Record<string, string> = {};
  if (!isMapping(outputs)) return mapped;
  for (const [name, value] of Object.entries(outputs)) {
    const ref = /^\s*\$\{\{\s*steps\.([A-Za-z_][\w-]*)\.outputs\.([A-Za-z_][\w-]*)\s*\}\}\s*$/.exec(scalarText(value) ?? '');
    const id = ref?.[1]?.toLowerCase();
    if (ref && id !== undefined && runIds.has(id)) mapped[name.toLowerCase()] = `${jobId.toLowerCase()}/${id}.${(ref[2] ?? '').toLowerCase()}`;
  }
  return mapped;
}

/**
 * The output key of an unknown name: steps.<id>.outputs.<name> of the job's
 * earlier run: steps, needs.<job>.outputs.<name> of a needed job's mapped outputs.
 */
function outputKey(name: string, known: KnownResults): string | undefined {
  const result = /^steps\.([^.]+)\.(outcome|conclusion)$/.exec(name);
  if (result && known.runIds.has(result[1] ?? '')) return `${known.job.toLowerCase()}/${result[1] ?? ''}.@${result[2] ?? ''}`;
  const step = /^steps\.([^.]+)\.outputs\.([^.]+)$/.exec(name);
  if (step && known.runIds.has(step[1] ?? '')) return `${known.job.toLowerCase()}/${step[1] ?? ''}.${step[2] ?? ''}`;
  const need = /^needs\.([^.]+)\.outputs\.([^.]+)$/.exec(name);
  const job = Object.keys(known.needs).find((id) => id.toLowerCase() === need?.[1]);
  return need && job !== undefined ? known.jobOutputs.get(job)?.[need[2] ?? ''] : undefined;
}

/** An `if:` whose only unknowns are outputs known at run time (outputKey), to decide then; else undefined. */
function outputCondition(condition: unknown, env: Record<string, string>, plan: WorkflowPlan, where: string): Deferred | undefined {
  const text = condition === undefined || condition === null ? undefined : scalarText(condition);
  const known = KNOWN.get(plan);
  if (text === undefined || known === undefined) return undefined;
  const bare = text.trim().replace(/^\$\{\{\s*([\s\S]*?)\s*\}\}$/, '$1').trim();
  const resolve = contexts(env, plan, true, where);
  const evaluated = tryEvaluate(bare, resolve);
  if (!evaluated.ok || evaluated.unknown.length === 0) return undefined;
  const runtime = runtimeCondition(bare, evaluated.unknown, (name) => outputKey(name, known), resolve);
  return runtime === undefined ? undefined : { text, condition: runtime };
}

/** Notes a skipped job or step: among the assumptions when GitHub would skip it too (its if: is false for the run), else as unsupported. */
function noteSkip(plan: WorkflowPlan, where: string, skip: Skip): void {
  note(skip.asOnGitHub ? plan.assumptions : plan.unsupported, `${where} is skipped: ${skip.reason}`);
}

/** The job ids a job `needs:` (a string or a list). */
function needsOf(job: unknown): string[] {
  const raw = isMapping(job) ? job['needs'] : undefined;
  return raw === undefined || raw === null ? [] : Array.isArray(raw) ? raw.map(String) : [String(raw)];
}

/** Job ids in run order: YAML order, each job after every job it needs. */
function jobOrder(jobs: Mapping): string[] {
  const ids = Object.keys(jobs);
  const needs = new Map<string, string[]>();
  for (const id of ids) {
    const list = needsOf(jobs[id]);
    for (const need of list) {
      if (!ids.includes(need)) throw new Error(`workflow: job "${id}" needs "${need}", which is not a job in this workflow`);
    }
    needs.set(id, list);
  }
  const order: string[] = [];
  while (order.length < ids.length) {
    const next = ids.find((id) => !order.includes(id) && (needs.get(id) ?? []).every((n) => order.includes(n)));
    if (next === undefined) {
      const stuck = ids.filter((id) => !order.includes(id)).join(', ');
      throw new Error(`workflow: the needs: of jobs ${stuck} form a cycle`);
    }
    order.push(next);
  }
  return order;
}

/** Parses the workflow and lists the shell steps to run, in order, with what is skipped. */
export function planWorkflow(yamlText: string): WorkflowPlan {
  const doc = parseDocument(yamlText);
  const [error] = doc.errors;
  if (error) throw new Error(`workflow: invalid YAML: ${error.message}`);
  const root: unknown = doc.toJS();
  if (!isMapping(root)) throw new Error('workflow: the file must be a YAML mapping with a jobs: section');
  const jobs = root['jobs'];
  if (!isMapping(jobs) || Object.keys(jobs).length === 0) throw new Error('workflow: no jobs: found');

  const plan: WorkflowPlan = { steps: [], satisfied: [], assumptions: [], unsupported: [], emptySecrets: [], event: simulatedEvent(root['on']), notRun: [] };
  const workflowEnv = readEnv(root['env'], {}, 'workflow', plan);
  const workflowDefaults = runDefaults(root);
  /** Skipped job ids, and whether GitHub would skip them too. */
  const skippedJobs = new Map<string, boolean>();
  const jobOutputs = new Map<string, Record<string, string>>();
  /** Per job, the run-time conditions its steps carry (its own if: and those of the jobs it needs). */
  const jobConditions = new Map<string, Deferred[]>();

  for (const jobId of jobOrder(jobs)) {
    const job = jobs[jobId];
    const where = `job "${jobId}"`;
    if (!isMapping(job)) throw new Error(`workflow: ${where} must be a mapping`);
    KNOWN.set(plan, {
      job: jobId,
      needs: Object.fromEntries(needsOf(job).map((need) => [need, skippedJobs.has(need) ? 'skipped' : 'success'])),
      steps: {},
      runIds: new Set(),
      terraformWrapper: false,
      jobOutputs,
    });
    const blockedBy = needsOf(job).find((n) => skippedJobs.has(n));
    const deferredJob = blockedBy === undefined && job['uses'] === undefined ? outputCondition(job['if'], workflowEnv, plan, where) : undefined;
    const skip: Skip | undefined =
      blockedBy !== undefined
        ? { reason: `it needs job "${blockedBy}", which is not run`, asOnGitHub: skippedJobs.get(blockedBy) === true }
        : job['uses'] !== undefined
          ? { reason: `it calls the reusable workflow ${String(job['uses'])}`, asOnGitHub: false }
          : deferredJob === undefined
            ? conditionSkips(job['if'], workflowEnv, plan, where)
            : undefined;
    if (skip !== undefined) {
      skippedJobs.set(jobId, skip.asOnGitHub);
      noteSkip(plan, where, skip);
      if (Array.isArray(job['steps'])) {
        for (const step of job['steps'] as unknown[]) {
          const text = isMapping(step) ? scalarText(step['run']) : undefined;
          if (text !== undefined) plan.notRun.push(text);
        }
      }
      continue;
    }
    if (job['container'] !== undefined) note(plan.unsupported, `${where}: container: is ignored; its steps run on this host`);
    if (job['services'] !== undefined) note(plan.unsupported, `${where}: services: are not started`);
    const strategy = job['strategy'];
    if (isMapping(strategy) && strategy['matrix'] !== undefined) {
      note(plan.unsupported, `${where}: the matrix strategy is not expanded; the job runs once with empty matrix values`);
    }
    if (job['continue-on-error'] !== undefined && job['continue-on-error'] !== false) {
      note(plan.unsupported, `${where}: continue-on-error is ignored for a job; a failure stops the run`);
    }

    const jobEnv = { ...workflowEnv, ...readEnv(job['env'], workflowEnv, where, plan) };
    const jobDefaults = { ...workflowDefaults, ...runDefaults(job) };
    const steps = job['steps'];
    if (!Array.isArray(steps)) throw new Error(`workflow: ${where} has no steps: list`);
    const inherited = [...needsOf(job).flatMap((need) => jobConditions.get(need) ?? []), ...(deferredJob === undefined ? [] : [deferredJob])];
    if (deferredJob !== undefined) note(plan.assumptions, `${where} runs only if its if: ${deferredJob.text} holds when it is reached (read from the outputs of the jobs it needs)`);
    jobConditions.set(jobId, inherited);
    steps.forEach((step: unknown, index) => {
      const planned = planStep(step, index, jobId, jobEnv, jobDefaults, plan);
      if (planned === undefined) return;
      const conditions = [...inherited, ...(planned.runIf ?? [])];
      if (conditions.length > 0) planned.runIf = conditions;
      plan.steps.push(planned);
    });
    jobOutputs.set(jobId, mappedOutputs(job['outputs'], jobId, KNOWN.get(plan)?.runIds ?? new Set()));
  }
  return plan;
}

/** Plans one step: a shell step to run, or a note in satisfied/unsupported (then undefined). */
function planStep(
  step: unknown,
  index: number,
  jobId: string,
  jobEnv: Record<string, string>,
  jobDefaults: Mapping,
  plan: WorkflowPlan,
): WorkflowStep | undefined {
  if (!isMapping(step)) throw new Error(`workflow: job "${jobId}" step ${index + 1} must be a mapping`);
  const uses = step['uses'];
  const runText = scalarText(step['run']);
  const firstLine = (runText ?? '').trim().split('\n')[0] ?? '';
  const name = (scalarText(step['name']) ?? (typeof uses === 'string' ? `Run ${uses}` : `Run ${firstLine}`)).replace(/\s*\n\s*/g, ' ');
  const where = `job "${jobId}" step "${name}"`;

  if (typeof uses === 'string') {
    const action = uses.split('@')[0]?.split('/').slice(0, 2).join('/').toLowerCase() ?? '';
    if (SATISFIED_ACTIONS.has(action)) note(plan.satisfied, `${where}: ${uses} is treated as already done`);
    else note(plan.unsupported, `${where}: uses: ${uses} is not run`);
    const wrapper = isMapping(step['with']) ? scalarText(step['with']['terraform_wrapper']) : undefined;
    const known = KNOWN.get(plan);
    if (action === 'hashicorp/setup-terraform' && known !== undefined && wrapper !== 'false') {
      known.terraformWrapper = true;
      note(plan.satisfied, `${where}: its terraform wrapper is on: terraform in later steps sets their outputs exitcode, stdout and stderr`);
    }
    knowStep(plan, step, SATISFIED_ACTIONS.has(action) ? 'success' : undefined);
    return undefined;
  }
  if (runText === undefined || step['run'] === null) throw new Error(`workflow: job "${jobId}" step ${index + 1} has neither run: nor uses:`);
  const deferred = outputCondition(step['if'], jobEnv, plan, where);
  const skips = deferred === undefined ? conditionSkips(step['if'], jobEnv, plan, where) : undefined;
  if (skips !== undefined) {
    noteSkip(plan, where, skips);
    knowStep(plan, step, skips.asOnGitHub ? 'skipped' : undefined);
    plan.notRun.push(runText);
    return undefined;
  }
  const shellName = scalarText(step['shell'] ?? jobDefaults['shell']);
  const shell = shellCommand(shellName);
  if (shell === undefined) {
    note(plan.unsupported, `${where} is skipped: shell: ${shellName} is not supported (only bash and sh, also as "bash [options] {0}")`);
    plan.notRun.push(runText);
    return undefined;
  }
  const env = { ...jobEnv, ...readEnv(step['env'], jobEnv, where, plan) };
  const planned: WorkflowStep = { job: jobId, name, run: substitute(runText, env, where, plan), env, shell };
  const continueOnError = step['continue-on-error'];
  if (continueOnError === true || continueOnError === 'true') planned.continueOnError = true;
  else if (continueOnError !== undefined && continueOnError !== false && continueOnError !== 'false') {
    const text = scalarText(continueOnError) ?? '';
    const bare = text.trim().replace(/^\$\{\{\s*([\s\S]*?)\s*\}\}$/, '$1').trim();
    const evaluated = tryEvaluate(bare, contexts(env, plan, true, where));
    if (evaluated.ok && evaluated.unknown.length === 0) {
      if (!falsy(evaluated.value)) planned.continueOnError = true;
    } else {
      note(plan.unsupported, `${where}: continue-on-error: ${text} cannot be evaluated here; a failure stops the run`);
    }
  }
  const directory = scalarText(step['working-directory'] ?? jobDefaults['working-directory']);
  if (directory !== undefined && directory !== '') planned.workingDirectory = substitute(directory, env, where, plan);
  if (KNOWN.get(plan)?.terraformWrapper === true) planned.terraformWrapper = true;
  if (deferred !== undefined) {
    planned.runIf = [deferred];
    note(plan.assumptions, `${where} runs only if its if: ${deferred.text} holds when it is reached (read from how earlier steps ended and what they wrote to $GITHUB_OUTPUT)`);
  }
  knowStep(plan, step, planned.continueOnError || deferred !== undefined ? undefined : 'success');
  const id = scalarText(step['id']);
  if (id !== undefined && id !== '') {
    planned.id = id.toLowerCase();
    KNOWN.get(plan)?.runIds.add(planned.id);
  }
  return planned;
}

/** Single-quotes text for bash. */
function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Quotes a value for bash, leaving the run-time references (${GITHUB_RUN_ID}, ${AWS_REGION}, ...) to be expanded. */
function quoteWithReferences(text: string): string {
  // split() with a capturing group alternates literal text (even indexes) and references (odd).
  return text
    .split(RUNTIME_REFERENCE)
    .map((part, index) => (part === '' ? '' : index % 2 === 1 ? `"${part}"` : shellQuote(part)))
    .join('')
    .replace(/^$/, "''");
}

/**
 * One `NAME=value` word for `env`. A value that is just a harness variable
 * (`${{ secrets.AWS_REGION }}`) is passed only when the harness set that variable,
 * so it never turns into an empty one: `${AWS_REGION+"NAME=${AWS_REGION}"}`.
 */
function renderAssignment(name: string, value: string): string {
  const only = HARNESS_REFERENCE.exec(value)?.[1];
  return only !== undefined ? `\${${only}+"${name}=\${${only}}"}` : quoteWithReferences(`${name}=${value}`);
}

/**
 * Bash run after each step: what the step wrote to $GITHUB_ENV (NAME=value, or
 * NAME<<DELIMITER ... DELIMITER) is exported for the steps after it (GITHUB_*
 * and RUNNER_* names excepted, as on GitHub), and each line of $GITHUB_PATH is
 * put in front of PATH.
 */
const LOAD_FILES = [
  '__lg_pairs() {',
  "  local line name delimiter value heredoc='^([A-Za-z_][A-Za-z0-9_-]*)<<(.+)$'",
  '  while IFS= read -r line || [ -n "$line" ]; do',
  "    line=${line%$'\\r'}",
  '    if [[ $line =~ ^([A-Za-z_][A-Za-z0-9_-]*)=(.*)$ ]]; then',
  '      name=${BASH_REMATCH[1]}; value=${BASH_REMATCH[2]}',
  '    elif [[ $line =~ $heredoc ]]; then',
  '      name=${BASH_REMATCH[1]}; delimiter=${BASH_REMATCH[2]}; value=',
  '      local first=1',
  '      while IFS= read -r line; do',
  "        line=${line%$'\\r'}",
  '        [ "$line" = "$delimiter" ] && break',
  "        if [ \"$first\" = 1 ]; then value=$line; first=0; else value+=$'\\n'$line; fi",
  '      done',
  '    else',
  '      continue',
  '    fi',
  '    "$2" "$name" "$value"',
  '  done < "$1"',
  '}',
  '__lg_export() {',
  '  case $1 in GITHUB_*|RUNNER_*|*-*) return ;; esac',
  '  export "$1=$2"',
  '}',
  '__lg_load() {',
  '  local line',
  '  __lg_pairs "$1" __lg_export',
  '  while IFS= read -r line || [ -n "$line" ]; do',
  "    line=${line%$'\\r'}",
  '    [ -n "$line" ] && PATH="$line:$PATH"',
  '  done < "$2"',
  '  export PATH',
  '}',
];

/**
 * Bash: what hashicorp/setup-terraform's wrapper does, for the steps after it:
 * a `terraform` first on PATH that runs the real one, passes its output on, and
 * appends exitcode, stdout and stderr to $GITHUB_OUTPUT; it exits with terraform's code.
 */
const TERRAFORM_WRAPPER = [
  '__lg_real_terraform=$(command -v terraform)',
  'mkdir -p "$__lg_tmp/tfwrap"',
  `cat > "$__lg_tmp/tfwrap/terraform" <<'__LG_WRAPPER__'`,
  '#!/usr/bin/env bash',
  'out=$(mktemp) err=$(mktemp)',
  '"$__lg_real_terraform" "$@" 2>"$err" | tee "$out"',
  'code=${PIPESTATUS[0]}',
  'cat "$err" >&2',
  'if [ -n "${GITHUB_OUTPUT:-}" ]; then',
  '  { printf \'stdout<<__LG_EOF__\\n\'; cat "$out"; printf \'\\n__LG_EOF__\\nstderr<<__LG_EOF__\\n\'; cat "$err"; printf \'\\n__LG_EOF__\\nexitcode=%s\\n\' "$code"; } >> "$GITHUB_OUTPUT"',
  'fi',
  'rm -f "$out" "$err"',
  'exit "$code"',
  '__LG_WRAPPER__',
  'chmod +x "$__lg_tmp/tfwrap/terraform"',
  'export __lg_real_terraform',
];

/** The bash array element holding a step's outcome or conclusion (for if: conditions decided at run time). */
function resultKeys(step: WorkflowStep, kind: 'outcome' | 'conclusion'): string {
  return `__lg_outputs[${shellQuote(`${step.job.toLowerCase()}/${step.id ?? ''}.@${kind}`)}]`;
}

/** Renders the plan as one bash script; it exits with the first failing step's code (a continue-on-error step's failure is said and passed over). */
export function renderWorkflowScript(plan: WorkflowPlan): string {
  const lines = [
    '#!/usr/bin/env bash',
    '# Generated by lockgrader from a GitHub Actions workflow: runs its run: steps in order',
    "# in subshells, and stops at the first failing step with that step's exit code.",
    '__lg_tmp=$(mktemp -d) || exit 1',
    `trap 'rm -rf "$__lg_tmp"' EXIT`,
    ': "${CI:=true}" "${GITHUB_ACTIONS:=true}" "${GITHUB_WORKSPACE:=$PWD}"',
    'GITHUB_OUTPUT=$__lg_tmp/output GITHUB_STEP_SUMMARY=$__lg_tmp/summary',
    'export CI GITHUB_ACTIONS GITHUB_WORKSPACE GITHUB_ENV GITHUB_OUTPUT GITHUB_PATH GITHUB_STEP_SUMMARY',
    ...LOAD_FILES,
    ...OUTPUT_FUNCTIONS,
    ...(plan.steps.some((step) => step.terraformWrapper === true) ? TERRAFORM_WRAPPER : []),
  ];
  plan.steps.forEach((step, index) => {
    const label = shellQuote(step.name);
    const vars = Object.entries(step.env).map(([name, value]) => renderAssignment(name, value));
    const missing = `working-directory ${JSON.stringify(step.workingDirectory ?? '')} does not exist here: run: steps start in the lab's Terraform working directory (the one with main.tf), as if the repository had those files at its top`;
    const cd =
      step.workingDirectory === undefined ? '' : `if ! cd ${quoteWithReferences(step.workingDirectory)} 2>/dev/null; then printf '%s\\n' ${shellQuote(missing)} >&2; exit 1; fi; `;
    const failed = step.continueOnError
      ? `printf '::step-failed:: %s (exit %s; continue-on-error: the run goes on)\\n' ${label} "$__lg_status" >&2`
      : `printf '::step-failed:: %s (exit %s)\\n' ${label} "$__lg_status" >&2; exit "$__lg_status"`;
    const body = [
      `printf '::step:: %s\\n' ${label} >&2`,
      `GITHUB_ENV=$__lg_tmp/env.${index} GITHUB_PATH=$__lg_tmp/path.${index} GITHUB_OUTPUT=$__lg_tmp/output.${index}`,
      ': > "$GITHUB_ENV"; : > "$GITHUB_PATH"; : > "$GITHUB_OUTPUT"',
      `(${step.terraformWrapper === true ? 'PATH="$__lg_tmp/tfwrap:$PATH"; ' : ''}${cd}exec env ${[...vars, step.shell, '-c', shellQuote(step.run)].join(' ')})`,
      '__lg_status=$?',
      `if [ "$__lg_status" -ne 0 ]; then ${failed}; fi`,
      '__lg_load "$GITHUB_ENV" "$GITHUB_PATH"',
      ...(step.id === undefined ? [] : [`__lg_outputs_load ${shellQuote(`${step.job.toLowerCase()}/${step.id}`)} "$GITHUB_OUTPUT"`]),
      ...(step.id === undefined ? [] : [`${resultKeys(step, 'outcome')}=$([ "$__lg_status" -eq 0 ] && echo success || echo failure)`]),
      ...(step.id === undefined ? [] : [`${resultKeys(step, 'conclusion')}=${step.continueOnError ? 'success' : `\${__lg_outputs[${shellQuote(`${step.job.toLowerCase()}/${step.id}.@outcome`)}]}`}`]),
    ];
    if (step.runIf === undefined) lines.push('', ...body);
    else {
      const why = step.runIf.length === 1 ? `its if: ${step.runIf[0]?.text ?? ''} is false for this run` : `its job's and its if: ${step.runIf.map((d) => d.text).join('; ')} do not all hold for this run`;
      const skipped = shellQuote(`${step.name} (${why})`);
      const skippedResults = step.id === undefined ? '' : `; ${resultKeys(step, 'outcome')}=skipped; ${resultKeys(step, 'conclusion')}=skipped`;
      lines.push('', `if ${renderRuntimeTest(step.runIf.map((d) => d.condition))}; then`, ...body.map((line) => `  ${line}`), `else printf '::step-skipped:: %s\\n' ${skipped} >&2${skippedResults}; fi`);
    }
  });
  lines.push('', 'exit 0', '');
  return lines.join('\n');
}

const TF_CLI_ARGS = /^TF_CLI_ARGS(?:_\w*)?$/;

/**
 * The steps' run: text for a static scan (script-scan.ts), in order. When a
 * step's env: sets TF_CLI_ARGS or TF_CLI_ARGS_<command> (terraform reads
 * arguments from them), the step's text is preceded by `export` lines for them,
 * and by `unset` lines for those other steps set, so `-lock=false` given that
 * way is seen as written. Without such variables it is the run: texts joined.
 */
export function workflowScanText(plan: WorkflowPlan): string {
  // Steps not run here are read as written, after the steps that run (a pipeline.sh's branches that did not run are read too).
  const notRun = plan.notRun.map((text) => `\n${text}`).join('');
  const names = [...new Set(plan.steps.flatMap((step) => Object.keys(step.env).filter((name) => TF_CLI_ARGS.test(name))))];
  if (names.length === 0) return plan.steps.map((step) => step.run).join('\n') + notRun;
  return (
    plan.steps
      .map((step) => {
        const exports = names.map((name) => (step.env[name] !== undefined ? `export ${name}=${shellQuote(step.env[name])}` : `unset ${name}`));
        return [...exports, step.run].join('\n');
      })
      .join('\n') + notRun
  );
}
