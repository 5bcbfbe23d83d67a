// terraform-args.ts checked against the real binary: what terraform does with
// a -lock-timeout that has no unit, and how it merges TF_CLI_ARGS* into the
// command line (its own "CLI command args" log line, TF_LOG=info). Runs in an
// empty folder: flag parsing and the merge happen before any configuration or
// backend is read, so no backend is needed. Skipped where no terraform/tofu
// is found (the unit project's pattern also matches *.int.test.ts).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { locateTerraform, type TerraformBinary } from '../terraform/locate.ts';
import { stripAnsi } from '../util/ansi.ts';
import { effectiveArgs, parseInvocationArgs } from './terraform-args.ts';

const found: TerraformBinary | undefined = await locateTerraform().catch(() => undefined);
if (!found) console.log('terraform-args.int.test.ts skipped: no terraform or tofu binary found');
const describeWithTerraform = found ? describe : describe.skip;
let terraform: TerraformBinary;
let dir: string;
beforeAll(() => {
  if (found) terraform = found;
  dir = mkdtempSync(path.join(tmpdir(), 'lockgrader-args-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[], env: Record<string, string> = {}): { status: number | null; output: string } {
  const result = spawnSync(terraform.path, args, {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: '/dev/null', ...env },
    timeout: 30_000,
  });
  return { status: result.status, output: stripAnsi(`${result.stdout}${result.stderr}`) };
}

describeWithTerraform('what terraform does with a -lock-timeout without a unit', () => {
  test.each([
    ['on the command line', ['plan', '-no-color', '-lock-timeout=300'], {}],
    ['through TF_CLI_ARGS_plan', ['plan', '-no-color'], { TF_CLI_ARGS_plan: '-lock-timeout=300' }],
    ['through TF_CLI_ARGS', ['apply', '-no-color'], { TF_CLI_ARGS: '-lock-timeout=300' }],
  ])('%s: exit 1 with the flag error, nothing else runs', (_name, args, env: Record<string, string>) => {
    const parsed = parseInvocationArgs(args, env);
    expect(parsed.lockTimeoutInvalid).toBe(true);
    const { status, output } = run(args, env);
    expect(status).toBe(1);
    expect(output).toContain('Failed to parse command-line flags');
    expect(output).toContain(parsed.rejected ?? '(no message)');
    expect(output).not.toContain('No configuration files');
  });

  test('with a unit the flags parse and terraform goes on (to the missing configuration)', () => {
    const { status, output } = run(['plan', '-no-color', '-lock-timeout=300s']);
    expect(status).toBe(1);
    expect(output).not.toContain('Failed to parse command-line flags');
    expect(output).toContain('No configuration files');
  });

  test.each([
    [['plan', '-no-color', '-lock=fAlSe'], {}],
    [['plan', '-no-color'], { TF_CLI_ARGS: "-lock-timeout='60s" }],
  ])('%j %j: terraform prints the rejected message', (args, env: Record<string, string>) => {
    const { status, output } = run(args, env);
    expect(status).toBe(1);
    expect(output).toContain(parseInvocationArgs(args, env).rejected ?? '(no message)');
  });
});

/** The arguments terraform logged as `CLI command args: []string{...}` (Go %#v; plain ASCII values here). */
function loggedArgs(output: string): string[] {
  const line = /CLI command args: \[\]string\{(.*)\}/.exec(output);
  if (!line) throw new Error(`no "CLI command args" line in:\n${output.slice(0, 2000)}`);
  return JSON.parse(`[${line[1]}]`) as string[];
}

describeWithTerraform('effectiveArgs matches the command line terraform logs', () => {
  test.each([
    [['plan', '-input=false'], { TF_CLI_ARGS: '-no-color -lock-timeout=5s', TF_CLI_ARGS_plan: `-lock-timeout=60s 'a b' "c\\"d" e\\ f g;h i` }],
    [['apply', '-auto-approve'], { TF_CLI_ARGS_apply: '-lock=false', TF_CLI_ARGS_plan: '-nope' }],
    [['state', 'list'], { TF_CLI_ARGS_state_list: '-state=x', TF_CLI_ARGS_state: '-bogus' }],
    [['state', 'push', 'x.tfstate'], { TF_CLI_ARGS_state_push: '-lock=false', TF_CLI_ARGS: '-lock-timeout=1s' }],
    [['force-unlock', 'abc'], { TF_CLI_ARGS_force_unlock: '-force' }],
    [['-no-color', 'apply', '-help'], { TF_CLI_ARGS_apply: '-lock=false' }],
    [['plan', 'plan'], { TF_CLI_ARGS_plan: 'x' }],
    [['plan'], { TF_CLI_ARGS: '', TF_CLI_ARGS_plan: '' }],
  ])('%j with %j', (args, env: Record<string, string>) => {
    const { output } = run(args, { ...env, TF_LOG: 'info' });
    expect(effectiveArgs(args, env)).toEqual(loggedArgs(output));
  });
});
