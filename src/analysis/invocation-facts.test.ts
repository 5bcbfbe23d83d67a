import { describe, expect, test } from '@jest/globals';
import type { Invocation } from '../grading/types.ts';
import { describeInvocation, forceUnlocks, parseRecords, rejectedCommandLines, unlockedWrites } from './invocation-facts.ts';

function inv(args: string[], extra: Partial<Invocation> = {}): Invocation {
  return { tool: 'terraform', args, cwd: '/w', pid: 1, started_at: 0, ended_at: 1, exit_code: 0, signal: null, ...extra };
}

describe('parseRecords reads the recorded TF_CLI_ARGS*', () => {
  test.each([
    ['record without the field (older wrapper)', inv(['apply']), false, undefined],
    ['no variables', inv(['apply'], { tf_cli_args: {} }), false, undefined],
    ['TF_CLI_ARGS_apply=-lock=false', inv(['apply', '-auto-approve'], { tf_cli_args: { TF_CLI_ARGS_apply: '-lock=false' } }), true, undefined],
    ['TF_CLI_ARGS_plan=-lock-timeout=60s', inv(['plan'], { tf_cli_args: { TF_CLI_ARGS_plan: '-lock-timeout=60s' } }), false, 60_000],
    ['TF_CLI_ARGS_plan is not read by apply', inv(['apply'], { tf_cli_args: { TF_CLI_ARGS_plan: '-lock=false' } }), false, undefined],
  ])('%s', (_name, invocation, lockDisabled, lockTimeoutMs) => {
    const [record] = parseRecords([invocation]);
    expect(record?.invocation).toBe(invocation);
    expect(record?.parsed.lockDisabled).toBe(lockDisabled);
    expect(record?.parsed.lockTimeoutMs).toBe(lockTimeoutMs);
  });
});

describe('describeInvocation', () => {
  test.each([
    [inv(['apply', '-lock=false']), 'terraform apply -lock=false (exit 0)'],
    [inv(['apply'], { exit_code: undefined }), 'terraform apply (did not finish)'],
    [inv(['apply'], { exit_code: null, signal: 'SIGKILL' }), 'terraform apply (killed by SIGKILL)'],
    [inv(['apply'], { tf_cli_args: { TF_CLI_ARGS_apply: '-lock=false' } }), 'TF_CLI_ARGS_apply=-lock=false terraform apply (exit 0)'],
    [
      inv(['plan', '-out=p'], { tool: 'tofu', tf_cli_args: { TF_CLI_ARGS: '-no-color', TF_CLI_ARGS_plan: "-lock-timeout=60s -var 'x=it''s'" } }),
      `TF_CLI_ARGS=-no-color TF_CLI_ARGS_plan='-lock-timeout=60s -var '\\''x=it'\\'''\\''s'\\''' tofu plan -out=p (exit 0)`,
    ],
    // variables terraform does not read for this command, and empty ones, are not shown
    [inv(['apply'], { tf_cli_args: { TF_CLI_ARGS_plan: '-lock=false', TF_CLI_ARGS: '' } }), 'terraform apply (exit 0)'],
  ])('%j → %s', (invocation, text) => {
    expect(describeInvocation(invocation)).toBe(text);
  });
});

describe('filters', () => {
  const records = parseRecords([
    inv(['plan', '-lock=false']), // read-only: not an unlocked write
    inv(['apply', '-lock=false']),
    inv(['apply'], { tf_cli_args: { TF_CLI_ARGS: '-lock=0' } }),
    inv(['force-unlock', '-force', 'abc']),
    inv(['plan', '-lock-timeout=300']),
    inv(['apply', '-auto-approve']),
  ]);
  test('unlockedWrites: state-writing commands with locking off, however it was given', () => {
    expect(unlockedWrites(records).map((r) => describeInvocation(r.invocation))).toEqual([
      'terraform apply -lock=false (exit 0)',
      'TF_CLI_ARGS=-lock=0 terraform apply (exit 0)',
    ]);
  });
  test('forceUnlocks', () => {
    expect(forceUnlocks(records).map((r) => r.parsed.lockId)).toEqual(['abc']);
  });
  test('rejectedCommandLines: what terraform refused to run', () => {
    expect(rejectedCommandLines(records).map((r) => r.parsed.rejected)).toEqual(['invalid value "300" for flag -lock-timeout: parse error']);
  });
});
