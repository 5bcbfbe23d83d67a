import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findForceUnlock, findUnlockedWrites } from '../analysis/script-scan.ts';
import { HARNESS_SECRETS, planWorkflow, renderWorkflowScript, shellCommand, workflowScanText } from './workflow.ts';

const BASH_PIPEFAIL = 'bash --noprofile --norc -eo pipefail';

describe('planWorkflow', () => {
  test('env merges workflow < job < step, with ${{ env.X }} substituted', () => {
    const plan = planWorkflow(`
on: push
env: { A: wf, B: wf, C: wf }
jobs:
  deploy:
    runs-on: ubuntu-latest
    env: { B: job, C: job, FROM_WF: "\${{ env.A }}" }
    steps:
      - name: Apply
        env: { C: step, FROM_JOB: "\${{ env.B }}" }
        run: echo "\${{ env.C }} \${{env.A}} \${{ env.MISSING }}"
`);
    expect(plan.steps).toEqual([
      {
        job: 'deploy',
        name: 'Apply',
        run: 'echo "step wf "',
        env: { A: 'wf', B: 'job', C: 'step', FROM_WF: 'wf', FROM_JOB: 'job' },
        shell: 'bash -e',
      },
    ]);
    // empty as on GitHub, but said: the env context is not the runner's environment
    expect(plan.unsupported).toEqual([
      `job "deploy" step "Apply": \${{ env.MISSING }} is empty: MISSING is not set in an env: of the workflow, job or step (the env context does not hold the runner's variables)`,
    ]);
  });

  test('jobs run in YAML order but after the jobs they need', () => {
    const plan = planWorkflow(`
jobs:
  apply: { needs: [plan, lint], steps: [ { run: echo apply } ] }
  plan: { needs: init, steps: [ { run: echo plan } ] }
  lint: { steps: [ { run: echo lint } ] }
  init: { steps: [ { run: echo init } ] }
`);
    expect(plan.steps.map((s) => s.job)).toEqual(['lint', 'init', 'plan', 'apply']);
    expect(plan.steps.map((s) => s.name)).toEqual(['Run echo lint', 'Run echo init', 'Run echo plan', 'Run echo apply']);
  });

  test('working-directory: workflow default < job default < step', () => {
    const plan = planWorkflow(`
defaults: { run: { working-directory: wf-dir, shell: bash } }
jobs:
  a:
    steps:
      - run: pwd
  b:
    defaults: { run: { working-directory: job-dir } }
    steps:
      - run: pwd
      - run: pwd
        working-directory: step-dir
        shell: sh
`);
    expect(plan.steps.map((s) => [s.workingDirectory, s.shell])).toEqual([
      ['wf-dir', BASH_PIPEFAIL],
      ['job-dir', BASH_PIPEFAIL],
      ['step-dir', 'sh -e'],
    ]);
  });

  test('setup actions are satisfied; other uses:, containers, services, matrix, secrets are reported', () => {
    const plan = planWorkflow(`
jobs:
  ci:
    container: hashicorp/terraform:1.9
    services: { localstack: { image: localstack/localstack } }
    strategy: { matrix: { env: [dev, prod] } }
    steps:
      - uses: actions/checkout@v4
      - uses: hashicorp/setup-terraform@v3
        with: { terraform_wrapper: false }
      - uses: opentofu/setup-opentofu@v1
      - uses: aws-actions/configure-aws-credentials@v4
      - name: Cache
        uses: actions/cache@v4
      - name: Plan
        run: terraform plan -var env=\${{ matrix.env }} -out=plan-\${{ github.run_id }}
        env: { TOKEN: "\${{ secrets.TOKEN }}", SHA: "\${{ github.sha }}" }
`);
    expect(plan.steps).toHaveLength(1);
    expect(plan.steps[0]?.run).toBe('terraform plan -var env= -out=plan-${GITHUB_RUN_ID}');
    expect(plan.steps[0]?.env).toEqual({ TOKEN: '', SHA: '' });
    expect(plan.satisfied).toEqual([
      'job "ci" step "Run actions/checkout@v4": actions/checkout@v4 is treated as already done',
      'job "ci" step "Run hashicorp/setup-terraform@v3": hashicorp/setup-terraform@v3 is treated as already done',
      'job "ci" step "Run opentofu/setup-opentofu@v1": opentofu/setup-opentofu@v1 is treated as already done',
      'job "ci" step "Run aws-actions/configure-aws-credentials@v4": aws-actions/configure-aws-credentials@v4 is treated as already done',
    ]);
    expect(plan.unsupported).toEqual([
      'job "ci": container: is ignored; its steps run on this host',
      'job "ci": services: are not started',
      'job "ci": the matrix strategy is not expanded; the job runs once with empty matrix values',
      'job "ci" step "Cache": uses: actions/cache@v4 is not run',
      `job "ci" step "Plan": secret TOKEN is empty here: the grader provides only the lab's variables as secrets (${[...HARNESS_SECRETS].join(', ')})`,
      'job "ci" step "Plan": ${{ github.sha }} is not evaluated here (github.sha is not known here); it becomes an empty string',
      'job "ci" step "Plan": ${{ matrix.env }} is not evaluated here (matrix.env is not known here); it becomes an empty string',
    ]);
    expect(plan.emptySecrets).toEqual(['TOKEN']);
  });

  test.each([
    ...[...HARNESS_SECRETS].map((name) => [`secrets.${name}`, `\${${name}}`]),
    ["secrets['AWS_REGION']", '${AWS_REGION}'],
    ['secrets.aws_region', '${AWS_REGION}'], // secret names are case-insensitive
    ['github.run_id', '${GITHUB_RUN_ID}'],
    ['github.workspace', '${GITHUB_WORKSPACE}'],
    ['env.A', 'a'],
    ["env['A']", 'a'],
    ["env.MISSING || '5m'", '5m'],
    ["format('{0}-{1}', env.A, 'b')", 'a-b'],
    ['runner.os', 'Linux'],
  ])('${{ %s }} → %s, nothing reported', (expression, rendered) => {
    const plan = planWorkflow(`jobs: { j: { env: { A: a }, steps: [ { run: "echo \${{ ${expression} }}" } ] } }`);
    expect(plan.steps[0]?.run).toBe(`echo ${rendered}`);
    expect(plan.unsupported).toEqual([]);
    expect(plan.emptySecrets).toEqual([]);
  });

  test.each([
    ['secrets.GITHUB_TOKEN', 'secret GITHUB_TOKEN is empty here'],
    ["secrets['my_token']", 'secret MY_TOKEN is empty here'],
    ['github.sha', '${{ github.sha }} is not evaluated here (github.sha is not known here); it becomes an empty string'],
    ["secrets.AWS_REGION || 'us-east-1'", "${{ secrets.AWS_REGION || 'us-east-1' }} is not evaluated here (secrets.AWS_REGION is not known here); it becomes an empty string"],
    ['toString', '${{ toString }} is not evaluated here (toString is not known here); it becomes an empty string'],
    ['vars.LOCK_TIMEOUT', 'vars.LOCK_TIMEOUT is empty here: the grader has no configuration variables'],
    ["hashFiles('**/*.tf')", "${{ hashFiles('**/*.tf') }} is not evaluated here (the function hashFiles() is not supported here)"],
    ['env.NOPE', '${{ env.NOPE }} is empty: NOPE is not set'],
  ])('${{ %s }} → empty, reported by name', (expression, message) => {
    const plan = planWorkflow(`jobs: { j: { steps: [ { name: s, run: "echo [\${{ ${expression} }}]" } ] } }`);
    expect(plan.steps[0]?.run).toBe('echo []');
    expect(plan.unsupported).toHaveLength(1);
    expect(plan.unsupported[0]).toContain(`job "j" step "s": ${message}`);
  });

  test('a harness secret in an env: of the same name keeps the variable; others are collected once', () => {
    const plan = planWorkflow(`
env:
  AWS_ACCESS_KEY_ID: \${{ secrets.AWS_ACCESS_KEY_ID }}
  TOKEN: \${{ secrets.TOKEN }}
jobs:
  a:
    env: { AWS_SECRET_ACCESS_KEY: "\${{ secrets.AWS_SECRET_ACCESS_KEY }}", URL: "s3://\${{ secrets.LAB_STATE_BUCKET }}/\${{ secrets.LAB_STATE_KEY }}" }
    steps:
      - env: { AWS_REGION: "\${{ secrets.AWS_REGION }}", OTHER: "\${{ secrets.TOKEN }}" }
        run: terraform apply
`);
    expect(plan.steps[0]?.env).toEqual({
      AWS_ACCESS_KEY_ID: '${AWS_ACCESS_KEY_ID}',
      TOKEN: '',
      AWS_SECRET_ACCESS_KEY: '${AWS_SECRET_ACCESS_KEY}',
      URL: 's3://${LAB_STATE_BUCKET}/${LAB_STATE_KEY}',
      AWS_REGION: '${AWS_REGION}',
      OTHER: '',
    });
    expect(plan.emptySecrets).toEqual(['TOKEN']);
    expect(plan.unsupported).toEqual([
      expect.stringMatching(/^workflow: secret TOKEN is empty here/),
      expect.stringMatching(/^job "a" step "Run terraform apply": secret TOKEN is empty here/),
    ]);
  });

  test('env: that is not a mapping, and entries that are not NAME: value, are ignored and reported', () => {
    const plan = planWorkflow(`
env: [A, B]
jobs:
  a:
    env: { bad-name: x, OBJ: { a: 1 }, OK: 1 }
    steps: [ { run: echo } ]
`);
    expect(plan.steps[0]?.env).toEqual({ OK: '1' });
    expect(plan.unsupported).toEqual([
      'workflow: env: must be a mapping here; it is ignored',
      'job "a": env bad-name is not a plain NAME: value pair; it is ignored',
      'job "a": env OBJ is not a plain NAME: value pair; it is ignored',
    ]);
  });

  test('if: evaluated for a push to main: true conditions run, false or unknown ones skip the step or job, and its dependents', () => {
    const plan = planWorkflow(`
on: { push: { branches: [main] }, pull_request: {} }
jobs:
  main:
    steps:
      - { name: A, if: always(), run: echo a }
      - { name: B, if: "\${{ success() }}", run: echo b }
      - { name: C, if: "github.ref == 'refs/heads/main'", run: echo c }
      - { name: D, if: failure(), run: echo d }
      - { name: E, shell: pwsh, run: Write-Host e }
      - { name: F, if: "github.event_name == 'pull_request'", run: echo f }
      - { name: G, if: "github.sha != ''", run: echo g }
      - { name: H, if: "github.ref == 'refs/heads/main' && (", run: echo h }
  deploy:
    if: github.event_name == 'push'
    steps: [ { run: echo deploy } ]
  preview:
    if: github.event_name == 'pull_request'
    steps: [ { run: echo preview } ]
  after:
    needs: preview
    steps: [ { run: echo after } ]
  reusable:
    uses: ./.github/workflows/other.yml
`);
    expect(plan.steps.map((s) => s.name)).toEqual(['A', 'B', 'C', 'Run echo deploy']);
    // what GitHub would skip too for a push to main is an assumption; what cannot be judged here is unsupported
    expect(plan.assumptions).toEqual([
      `expressions are evaluated for a push event on refs/heads/main (github.event_name 'push', github.ref 'refs/heads/main')`,
      'job "main" step "D" is skipped: its if: failure() is false for this run',
      `job "main" step "F" is skipped: its if: github.event_name == 'pull_request' is false for this run`,
      `job "preview" is skipped: its if: github.event_name == 'pull_request' is false for this run`,
      'job "after" is skipped: it needs job "preview", which is not run',
    ]);
    expect(plan.unsupported).toEqual([
      'job "main" step "E" is skipped: shell: pwsh is not supported (only bash and sh, also as "bash [options] {0}")',
      `job "main" step "G" is skipped: its if: github.sha != '' cannot be evaluated here (github.sha is not known here)`,
      `job "main" step "H" is skipped: its if: github.ref == 'refs/heads/main' && ( cannot be evaluated here (unexpected end of github.ref == 'refs/heads/main' && ()`,
      'job "reusable" is skipped: it calls the reusable workflow ./.github/workflows/other.yml',
    ]);
  });

  test.each([
    ['on: push', 'push', 'refs/heads/main'],
    ['on: [pull_request, push]', 'push', 'refs/heads/main'],
    ["on: { push: { branches: ['release/**', master] } }", 'push', 'refs/heads/master'],
    ['on: { workflow_dispatch: {}, pull_request: {} }', 'workflow_dispatch', 'refs/heads/main'],
    ['on: pull_request', 'pull_request', 'refs/pull/1/merge'],
    ['', 'push', 'refs/heads/main'],
  ])('the run stands for one event: %s → %s on %s', (on, name, ref) => {
    const plan = planWorkflow(`${on}\njobs: { j: { steps: [ { if: "github.event_name == '${name}' && github.ref == '${ref}'", run: echo yes } ] } }`);
    expect(plan.steps).toHaveLength(1);
    expect(plan.event).toMatchObject({ name, ref });
  });

  test('a workflow_dispatch run has its inputs at their defaults (inputs.X and github.event.inputs.X); another event has none', () => {
    const dispatch = `
on:
  workflow_dispatch:
    inputs:
      lock_timeout: { description: How long to wait for the lock, default: 5m }
      dry_run: { type: boolean, default: false }
      note: { required: false }
jobs:
  j:
    steps:
      - name: apply
        if: "!inputs.dry_run"
        run: terraform apply -lock-timeout=\${{ inputs.lock_timeout }} -auto-approve && echo \${{ github.event.inputs.lock_timeout }} [\${{ inputs.note }}]
`;
    const plan = planWorkflow(dispatch);
    expect(plan.steps.map((s) => s.run)).toEqual(['terraform apply -lock-timeout=5m -auto-approve && echo 5m []']);
    expect(plan.unsupported).toEqual([]);
    expect(plan.assumptions).toEqual([
      `expressions are evaluated for a workflow_dispatch event on refs/heads/main (github.event_name 'workflow_dispatch', github.ref 'refs/heads/main', its inputs at their defaults (lock_timeout "5m", dry_run false, note ""))`,
    ]);
    const push = planWorkflow(`on: push\njobs: { j: { steps: [ { run: "echo [\${{ inputs.lock_timeout || '2m' }}]" } ] } }`);
    expect(push.steps[0]?.run).toBe('echo [2m]');
  });

  test("github.event.* fields are empty (no event payload), said once: '[skip ci]' guards run, pull_request fields are null", () => {
    const plan = planWorkflow(`
on: push
jobs:
  j:
    if: "!contains(github.event.head_commit.message, '[skip ci]')"
    steps:
      - { name: apply, run: terraform apply -auto-approve }
      - { name: merged, if: github.event.pull_request.merged == true, run: echo merged }
`);
    expect(plan.steps.map((s) => s.name)).toEqual(['apply']);
    expect(plan.unsupported).toEqual([
      'job "j": github.event.head_commit.message is empty here: the run has no event payload',
      'job "j" step "merged": github.event.pull_request.merged is empty here: the run has no event payload',
    ]);
    expect(plan.assumptions).toContain(`job "j" step "merged" is skipped: its if: github.event.pull_request.merged == true is false for this run`);
  });

  test('needs.<job>.result and steps.<id>.outcome are known where the run decides them; a continue-on-error step\'s outcome is decided at run time', () => {
    const plan = planWorkflow(`
on: push
jobs:
  plan:
    steps:
      - { id: fmt, run: terraform fmt -check }
      - { id: pr, if: "github.event_name == 'pull_request'", run: echo pr }
      - { id: tryit, continue-on-error: true, run: terraform validate }
      - { name: after-fmt, if: "steps.fmt.outcome == 'success' && steps.pr.conclusion == 'skipped'", run: echo fmt-ok }
      - { name: status, if: "steps.tryit.outcome == 'failure'", run: exit 1 }
  apply:
    needs: plan
    if: needs.plan.result == 'success'
    steps: [ { name: apply, run: terraform apply -auto-approve } ]
`);
    expect(plan.steps.map((s) => s.name)).toEqual(['Run terraform fmt -check', 'Run terraform validate', 'after-fmt', 'status', 'apply']);
    expect(plan.unsupported).toEqual([]);
    expect(plan.assumptions).toContain(
      `job "plan" step "status" runs only if its if: steps.tryit.outcome == 'failure' holds when it is reached (read from how earlier steps ended and what they wrote to $GITHUB_OUTPUT)`,
    );
  });

  test('continue-on-error: true, or an expression that is true, lets the step fail; false or unknown does not', () => {
    const plan = planWorkflow(`
jobs:
  j:
    continue-on-error: true
    steps:
      - { name: a, continue-on-error: true, run: 'false' }
      - { name: b, continue-on-error: "\${{ github.event_name == 'push' }}", run: 'false' }
      - { name: c, continue-on-error: false, run: 'false' }
      - { name: d, continue-on-error: "\${{ matrix.experimental }}", run: 'false' }
`);
    expect(plan.steps.map((s) => [s.name, s.continueOnError ?? false])).toEqual([
      ['a', true],
      ['b', true],
      ['c', false],
      ['d', false],
    ]);
    expect(plan.unsupported).toEqual([
      'job "j": continue-on-error is ignored for a job; a failure stops the run',
      'job "j" step "d": continue-on-error: ${{ matrix.experimental }} cannot be evaluated here; a failure stops the run',
    ]);
  });

  test.each<[string, string | undefined]>([
    ['bash', 'bash --noprofile --norc -eo pipefail'],
    ['sh', 'sh -e'],
    ['bash {0}', 'bash'],
    ['bash -euo pipefail {0}', 'bash -euo pipefail'],
    ['bash -l {0}', 'bash -l'],
    ['bash --noprofile --norc -e -o pipefail {0}', 'bash --noprofile --norc -e -o pipefail'],
    ['sh -ex {0}', 'sh -ex'],
    ['pwsh', undefined],
    ['python {0}', undefined],
    ['bash -c "curl evil" {0}', undefined],
    ['bash {0} extra', undefined],
    ['bash -o {0}', undefined],
  ])('shell: %s → %s', (shell, command) => {
    expect(shellCommand(shell)).toBe(command);
  });

  test.each([
    ['jobs: [unclosed', /invalid YAML/],
    ['a: 1\na: 2\njobs: {}', /invalid YAML/],
    ['- just\n- a list', /must be a YAML mapping/],
    ['', /must be a YAML mapping/],
    ['on: push', /no jobs/],
    ['jobs: {}', /no jobs/],
    ['jobs: { a: { steps: [ { run: x } ], needs: ghost } }', /job "a" needs "ghost"/],
    ['jobs: { a: { needs: b, steps: [] }, b: { needs: a, steps: [] } }', /cycle/],
    ['jobs: { a: { runs-on: x } }', /job "a" has no steps/],
    ['jobs: { a: { steps: [ { name: nothing } ] } }', /neither run: nor uses:/],
  ])('%j throws', (yamlText, message) => {
    expect(() => planWorkflow(yamlText)).toThrow(message);
  });
});

describe('renderWorkflowScript, executed with bash', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lockgrader-workflow-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Renders and runs the workflow in `dir`; returns exit status and stderr. */
  function run(yamlText: string, env: Record<string, string> = {}): { status: number; stdout: string; stderr: string } {
    const script = join(dir, 'pipeline.sh');
    writeFileSync(script, renderWorkflowScript(planWorkflow(yamlText)));
    // spawnSync rather than execFileSync: it keeps stderr (the ::step:: markers) on success too.
    const result = spawnSync('bash', [script], { cwd: dir, env: { ...process.env, ...env }, encoding: 'utf8' });
    if (result.error) throw result.error;
    return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  }

  test('env merge, working-directory, and a failing step that stops the rest', () => {
    mkdirSync(join(dir, 'infra'));
    mkdirSync(join(dir, 'other'));
    const result = run(`
on: push
env: { LEVEL: workflow, WF_ONLY: wf }
defaults:
  run:
    working-directory: infra
jobs:
  deploy:
    runs-on: ubuntu-latest
    env: { LEVEL: job, JOB_ONLY: job }
    steps:
      - uses: actions/checkout@v4
      - name: Show env
        env: { LEVEL: step }
        run: |
          echo "$LEVEL $WF_ONLY $JOB_ONLY \${{ env.JOB_ONLY }}" > env.txt
          pwd > where.txt
      - name: Fail
        working-directory: other
        run: |
          touch started
          exit 3
          touch unreachable
      - name: Never
        run: touch never.txt
`);
    expect(result.status).toBe(3);
    expect(readFileSync(join(dir, 'infra', 'env.txt'), 'utf8')).toBe('step wf job job\n');
    expect(readFileSync(join(dir, 'infra', 'where.txt'), 'utf8').trim()).toMatch(/\/infra$/);
    expect(existsSync(join(dir, 'other', 'started'))).toBe(true);
    expect(existsSync(join(dir, 'other', 'unreachable'))).toBe(false);
    expect(existsSync(join(dir, 'infra', 'never.txt'))).toBe(false);
    expect(result.stderr).toContain('::step:: Show env\n');
    expect(result.stderr).toContain('::step:: Fail\n');
    expect(result.stderr).not.toContain('::step:: Never');
  });

  test('arbitrary run text survives quoting; run_id comes from the environment; steps do not share cd', () => {
    const result = run(
      `
jobs:
  a:
    env:
      TRICKY: "it's \\"quoted\\" $HOME \`x\` \\\\n"
      PLAN: plan-\${{ github.run_id }}.tfplan
    steps:
      - name: Quotes
        run: |
          printf '%s|' "$TRICKY" 'single '"'"'inner'"'"' quote' "\${{ github.run_id }}" "$PLAN"
          echo
          cd /
      - name: "It's still here"
        run: test -f pipeline.sh && echo "$GITHUB_ACTIONS $CI" && echo x=1 >> "$GITHUB_OUTPUT"
`,
      { GITHUB_RUN_ID: '4242' },
    );
    expect(result).toEqual({
      status: 0,
      stdout: `it's "quoted" $HOME \`x\` \\n|single 'inner' quote|4242|plan-4242.tfplan|\ntrue true\n`,
      stderr: "::step:: Quotes\n::step:: It's still here\n",
    });
  });

  test("an if: on an earlier step's outputs is decided when the step is reached (plan -detailed-exitcode, honest round 6)", () => {
    const workflow = (code: string): string => `
jobs:
  deploy:
    steps:
      - name: Plan
        id: Plan
        run: |
          echo "ExitCode=${code}" >> "$GITHUB_OUTPUT"
          printf 'summary<<EOF\\nline one\\nline two\\nEOF\\n' >> "$GITHUB_OUTPUT"
      - name: Apply
        if: steps.plan.outputs.exitcode == '2'
        run: echo applied
      - name: Nothing to do
        if: \${{ steps.plan.outputs.exitcode == 0 && steps.plan.outputs.summary }}
        run: echo no-changes
      - name: Unset output
        if: "!steps.plan.outputs.missing"
        run: echo missing-is-falsy
`;
    const plan = planWorkflow(workflow('2'));
    expect(plan.steps.map((step) => step.name)).toEqual(['Plan', 'Apply', 'Nothing to do', 'Unset output']);
    expect(plan.unsupported).toEqual([]);
    expect(plan.assumptions).toContain(
      `job "deploy" step "Apply" runs only if its if: steps.plan.outputs.exitcode == '2' holds when it is reached (read from how earlier steps ended and what they wrote to $GITHUB_OUTPUT)`,
    );
    const changes = run(workflow('2'));
    expect(changes).toMatchObject({ status: 0, stdout: 'applied\nmissing-is-falsy\n' });
    expect(changes.stderr).toContain(`::step-skipped:: Nothing to do (its if: \${{ steps.plan.outputs.exitcode == 0 && steps.plan.outputs.summary }} is false for this run)`);
    expect(run(workflow('0'))).toMatchObject({ status: 0, stdout: 'no-changes\nmissing-is-falsy\n' });
    expect(run(workflow('1'))).toMatchObject({ status: 0, stdout: 'missing-is-falsy\n' });
  });

  test("a job's if: on a needed job's outputs (mapped from a step's) is decided when it is reached; jobs needing it follow it", () => {
    const workflow = (changes: string): string => `
jobs:
  plan:
    outputs:
      changes: \${{ steps.detect.outputs.changes }}
      unmapped: literal
    steps:
      - { id: detect, run: echo "changes=${changes}" >> "$GITHUB_OUTPUT" }
  apply:
    needs: plan
    if: needs.plan.outputs.changes == 'true'
    steps:
      - { name: Apply, run: echo applied }
  notify:
    needs: apply
    steps:
      - { name: Notify, run: echo notified }
  other:
    needs: plan
    if: needs.plan.outputs.unmapped == 'literal'
    steps:
      - { run: echo other }
`;
    const plan = planWorkflow(workflow('true'));
    expect(plan.steps.map((step) => step.name)).toEqual(['Run echo "changes=true" >> "$GITHUB_OUTPUT"', 'Apply', 'Notify']);
    expect(plan.assumptions).toContain(`job "apply" runs only if its if: needs.plan.outputs.changes == 'true' holds when it is reached (read from the outputs of the jobs it needs)`);
    expect(plan.unsupported).toEqual([
      `job "other" is skipped: its if: needs.plan.outputs.unmapped == 'literal' cannot be evaluated here (needs.plan.outputs.unmapped is not known here)`,
    ]);
    expect(run(workflow('true'))).toMatchObject({ status: 0, stdout: 'applied\nnotified\n' });
    const none = run(workflow('false'));
    expect(none).toMatchObject({ status: 0, stdout: '' });
    expect(none.stderr).toContain(`::step-skipped:: Apply (its if: needs.plan.outputs.changes == 'true' is false for this run)`);
  });

  test("hashicorp/setup-terraform's wrapper: terraform sets exitcode/stdout/stderr outputs of its step (if: steps.plan.outputs.exitcode == 2), unless terraform_wrapper: false", () => {
    const bin = join(dir, 'fake-bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'terraform'), '#!/bin/sh\necho "Plan: 1 to add"\necho "a warning" >&2\nexit 2\n', { mode: 0o755 });
    const workflow = (wrapper: string): string => `
jobs:
  deploy:
    steps:
      - uses: hashicorp/setup-terraform@v3
        with: { terraform_wrapper: ${wrapper} }
      - id: plan
        continue-on-error: true
        run: terraform plan -detailed-exitcode
      - if: steps.plan.outputs.exitcode == 2
        run: 'echo "apply after: \${{ steps.plan.outputs.exitcode }}"'
`;
    const wrapped = run(workflow('true'), { PATH: `${bin}:${process.env['PATH'] ?? ''}` });
    expect(wrapped.status).toBe(0);
    expect(wrapped.stdout).toBe('Plan: 1 to add\napply after: \n');
    expect(wrapped.stderr).toContain('a warning');
    const plain = run(workflow('false'), { PATH: `${bin}:${process.env['PATH'] ?? ''}` });
    expect(plain.stdout).toBe('Plan: 1 to add\n');
    expect(plain.stderr).toContain("::step-skipped:: Run echo \"apply after: ${{ steps.plan.outputs.exitcode }}\" (its if: steps.plan.outputs.exitcode == 2 is false for this run)");
  });

  test("a continue-on-error step's outcome/conclusion decide a later if: when it is reached (GitHub's starter: Plan Status exits 1 on a failed plan)", () => {
    const workflow = (code: number): string => `
jobs:
  j:
    steps:
      - { id: plan, continue-on-error: true, run: "echo planned; exit ${code}" }
      - { id: status, if: "steps.plan.outcome == 'failure'", run: "echo plan-failed; exit 1" }
      - { if: "steps.plan.conclusion == 'success' && steps.status.outcome == 'skipped'", run: echo apply }
`;
    expect(run(workflow(0))).toMatchObject({ status: 0, stdout: 'planned\napply\n' });
    const failed = run(workflow(3));
    expect(failed).toMatchObject({ status: 1, stdout: 'planned\nplan-failed\n' });
    expect(failed.stderr).toContain('continue-on-error: the run goes on');
  });

  test('an output passed to a function, compared with <, or of a later or unknown step is not decided at run time: the step is skipped and said', () => {
    const plan = planWorkflow(`
jobs:
  deploy:
    steps:
      - { id: plan, run: echo "exitcode=2" >> "$GITHUB_OUTPUT" }
      - { name: A, if: "contains(steps.plan.outputs.exitcode, '2')", run: echo a }
      - { name: B, if: "steps.plan.outputs.exitcode > 1", run: echo b }
      - { name: C, if: "steps.later.outputs.x == 'y'", run: echo c }
      - { id: later, run: echo "x=y" >> "$GITHUB_OUTPUT" }
`);
    expect(plan.steps.map((step) => step.name)).toEqual(['Run echo "exitcode=2" >> "$GITHUB_OUTPUT"', 'Run echo "x=y" >> "$GITHUB_OUTPUT"']);
    expect(plan.unsupported).toEqual([
      `job "deploy" step "A" is skipped: its if: contains(steps.plan.outputs.exitcode, '2') cannot be evaluated here (steps.plan.outputs.exitcode is not known here)`,
      'job "deploy" step "B" is skipped: its if: steps.plan.outputs.exitcode > 1 cannot be evaluated here (steps.plan.outputs.exitcode is not known here)',
      `job "deploy" step "C" is skipped: its if: steps.later.outputs.x == 'y' cannot be evaluated here (steps.later.outputs.x is not known here)`,
    ]);
  });

  test('shells: default bash has no pipefail, explicit bash has, sh -e stops at the first error', () => {
    const result = run(`
jobs:
  a:
    steps:
      - name: default
        run: false | true; echo default-ok
      - name: sh
        shell: sh
        run: false; echo unreachable
`);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('default-ok\n');
    const strict = run('jobs: { a: { steps: [ { shell: bash, run: "false | true; echo unreachable" } ] } }');
    expect(strict.status).toBe(1);
    expect(strict.stdout).toBe('');
    // GitHub's custom form: the options are the shell's
    const custom = run('defaults: { run: { shell: "bash -euo pipefail {0}" } }\njobs: { a: { steps: [ { run: "echo $- | grep -q u && echo nounset-on" }, { run: "false | true; echo unreachable" } ] } }');
    expect(custom.status).toBe(1);
    expect(custom.stdout).toBe('nounset-on\n');
  });

  test('harness secrets are the harness values at run time; absent ones stay unset; other secrets are empty', () => {
    mkdirSync(join(dir, 'infra'));
    const result = run(
      `
env:
  AWS_ACCESS_KEY_ID: \${{ secrets.AWS_ACCESS_KEY_ID }}
jobs:
  a:
    env:
      URL: "s3://\${{ secrets.LAB_STATE_BUCKET }}/\${{ secrets.LAB_STATE_KEY }}"
    steps:
      - name: show
        working-directory: \${{ github.workspace }}/infra
        env:
          AWS_ENDPOINT_URL: \${{ secrets.AWS_ENDPOINT_URL }}
          TOKEN: \${{ secrets.TOKEN }}
          LAB_STATE_KEY: \${{ secrets.LAB_STATE_KEY }}
        run: |
          printf '%s|' "$AWS_ACCESS_KEY_ID" "$URL" "\${{ secrets.LAB_STATE_BUCKET }}" "\${AWS_ENDPOINT_URL-unset}" "\${TOKEN-unset}" "$LAB_STATE_KEY" "$(basename "$PWD")"
`,
      { AWS_ACCESS_KEY_ID: 'AKIA123', LAB_STATE_BUCKET: "b 'q' $HOME", LAB_STATE_KEY: 'lab/terraform.tfstate', AWS_ENDPOINT_URL: '', TOKEN: 'from-outside' },
    );
    // AWS_ENDPOINT_URL: set but empty in the harness, so passed as set; run again without it below
    expect(result).toEqual({ status: 0, stdout: `AKIA123|s3://b 'q' $HOME/lab/terraform.tfstate|b 'q' $HOME|||lab/terraform.tfstate|infra|`, stderr: '::step:: show\n' });
    const env = { ...process.env };
    delete env['AWS_ENDPOINT_URL'];
    const script = join(dir, 'pipeline.sh');
    const unset = spawnSync('bash', [script], { cwd: dir, env: { ...env, LAB_STATE_KEY: 'k' }, encoding: 'utf8' });
    expect(unset.stdout.split('|')[3]).toBe('unset');
  });

  test('what a step writes to $GITHUB_ENV and $GITHUB_PATH reaches the later steps (an env: still wins); continue-on-error goes on', () => {
    const result = run(
      `
env: { FIXED: from-yaml }
jobs:
  j:
    steps:
      - name: set
        run: |
          echo "TF_CLI_ARGS_apply=-lock-timeout=90s" >> "$GITHUB_ENV"
          echo "FIXED=from-file" >> "$GITHUB_ENV"
          echo "GITHUB_WORKSPACE=/elsewhere" >> "$GITHUB_ENV"
          { echo 'MULTI<<EOF'; echo 'line 1'; echo 'line 2'; echo 'EOF'; } >> "$GITHUB_ENV"
          mkdir -p tools && printf '#!/bin/sh\\necho tool ran\\n' > tools/mytool && chmod +x tools/mytool
          echo "$PWD/tools" >> "$GITHUB_PATH"
      - name: fails but goes on
        continue-on-error: true
        run: exit 3
      - name: use
        run: |
          echo "[$TF_CLI_ARGS_apply] [$FIXED] [$MULTI] [$GITHUB_WORKSPACE]"
          mytool
          echo "## summary" >> "$GITHUB_STEP_SUMMARY"
      - name: fails
        run: exit 4
      - name: never
        run: echo never
`,
      { GITHUB_WORKSPACE: dir },
    );
    expect(result.status).toBe(4);
    expect(result.stdout).toBe(`[-lock-timeout=90s] [from-yaml] [line 1\nline 2] [${dir}]\ntool ran\n`);
    expect(result.stderr).toContain('::step-failed:: fails but goes on (exit 3; continue-on-error: the run goes on)');
    expect(result.stderr).toContain('::step-failed:: fails (exit 4)');
    expect(result.stderr).not.toContain('::step:: never');
  });

  test('a missing working directory fails the step', () => {
    const result = run('jobs: { a: { steps: [ { name: cd, working-directory: nope, run: echo hi } ] } }');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('::step-failed:: cd (exit 1)');
    expect(result.stderr).toContain(`working-directory "nope" does not exist here: run: steps start in the lab's Terraform working directory (the one with main.tf)`);
  });
});

describe('workflowScanText', () => {
  test('without TF_CLI_ARGS* in any env: it is the run: texts joined', () => {
    const plan = planWorkflow('jobs: { a: { env: { X: y }, steps: [ { run: terraform plan }, { run: terraform apply } ] } }');
    expect(workflowScanText(plan)).toBe('terraform plan\nterraform apply');
  });

  test('TF_CLI_ARGS* of a step are exported before its text and unset before the others', () => {
    const plan = planWorkflow(`
jobs:
  a:
    steps:
      - run: terraform plan -out=p
      - env: { TF_CLI_ARGS_apply: "-lock=false -var 'x=y'" }
        run: terraform apply p
      - run: terraform apply -auto-approve
`);
    expect(workflowScanText(plan)).toBe(
      ['unset TF_CLI_ARGS_apply', 'terraform plan -out=p', `export TF_CLI_ARGS_apply='-lock=false -var '\\''x=y'\\'''`, 'terraform apply p', 'unset TF_CLI_ARGS_apply', 'terraform apply -auto-approve'].join('\n'),
    );
    expect(findUnlockedWrites(workflowScanText(plan)).map((c) => c.text)).toEqual(['terraform apply p']);
  });

  test('steps not run here (if: false for a push, a skipped job, an unsupported shell) are read as written, after the others (c3-cheat-workflow-pr-lock-false)', () => {
    const plan = planWorkflow(`
on: [push, pull_request, workflow_dispatch]
jobs:
  a:
    steps:
      - run: terraform apply -lock-timeout=60s -auto-approve
      - if: github.event_name == 'pull_request'
        run: terraform apply -lock=false -auto-approve
      - shell: pwsh
        run: terraform taint -lock=false x
  unlock:
    if: github.event_name == 'workflow_dispatch'
    steps:
      - uses: actions/checkout@v4
      - run: terraform force-unlock -force "\${{ inputs.id }}"
`);
    expect(plan.steps.map((step) => step.run)).toEqual(['terraform apply -lock-timeout=60s -auto-approve']);
    expect(workflowScanText(plan)).toBe(
      ['terraform apply -lock-timeout=60s -auto-approve', 'terraform apply -lock=false -auto-approve', 'terraform taint -lock=false x', 'terraform force-unlock -force "${{ inputs.id }}"'].join('\n'),
    );
    expect(findUnlockedWrites(workflowScanText(plan)).map((c) => c.text)).toEqual(['terraform apply -lock=false -auto-approve', 'terraform taint -lock=false x']);
    expect(findForceUnlock(workflowScanText(plan)).map((c) => c.line)).toEqual([4]);
  });
});
