import { describe, expect, test } from '@jest/globals';
import { parseGoDuration, parseInvocationArgs } from './terraform-args.ts';

describe('parseGoDuration', () => {
  test.each([
    ['10s', 10_000],
    ['1m30s', 90_000],
    ['500ms', 500],
    ['2h', 7_200_000],
    ['0s', 0],
    ['0', 0],
    ['-0', 0],
    ['1.5s', 1500],
    ['.5s', 500],
    ['1.s', 1000],
    ['1h2m3s4ms', 3_723_004],
    ['1500us', 1.5],
    ['2µs', 0.002],
    ['-3s', -3000],
    ['+3s', 3000],
  ])('%s → %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toBeCloseTo(ms, 9);
  });

  test.each(['', '10', '00', 's', '.s', '10x', '1d', '10 s', 'ten', '1m-3s', '-', '1..5s'])('%j is invalid', (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });
});

describe('parseInvocationArgs: subcommands and state writing', () => {
  test.each([
    [['apply', '-auto-approve'], 'apply', true],
    [['apply', 'tfplan'], 'apply', true],
    [['apply', '-destroy', '-auto-approve'], 'apply', true],
    [['destroy'], 'destroy', true],
    [['import', 'aws_s3_bucket.b', 'bucket'], 'import', true],
    [['refresh'], 'refresh', true],
    [['taint', 'null_resource.x'], 'taint', true],
    [['untaint', 'null_resource.x'], 'untaint', true],
    [['state', 'mv', 'a.b', 'a.c'], 'state mv', true],
    [['state', 'rm', 'a.b'], 'state rm', true],
    [['state', 'push', 'x.tfstate'], 'state push', true],
    [['state', 'replace-provider', 'a', 'b'], 'state replace-provider', true],
    [['state', 'list'], 'state list', false],
    [['state', 'show', 'a.b'], 'state show', false],
    [['state', 'pull'], 'state pull', false],
    [['state', '-help'], 'state', false],
    [['force-unlock', '-force', 'abc'], 'force-unlock', false],
    [['plan', '-out=tfplan'], 'plan', false],
    [['plan', '-refresh-only'], 'plan', false],
    [['init', '-input=false'], 'init', false],
    [['show', '-json'], 'show', false],
    [['output', '-raw', 'x'], 'output', false],
    [['workspace', 'select', 'dev'], 'workspace select', false],
    [['apply', '-help'], 'apply', false],
    [[], '', false],
    [['-version'], '', false],
    [['-help'], '', false],
  ])('%j → %s (writing: %s)', (args, subcommand, writing) => {
    const parsed = parseInvocationArgs(args);
    expect(parsed.subcommand).toBe(subcommand);
    expect(parsed.stateWriting).toBe(writing);
  });

  test('global options before the subcommand are skipped; -chdir is kept', () => {
    expect(parseInvocationArgs(['-chdir=infra', 'apply', '-auto-approve'])).toEqual({
      subcommand: 'apply',
      stateWriting: true,
      lockDisabled: false,
      lockTimeoutMs: undefined,
      chdir: 'infra',
    });
    expect(parseInvocationArgs(['--chdir=infra', '-no-color', 'plan']).chdir).toBe('infra');
    expect(parseInvocationArgs(['-chdir', 'infra', 'plan'])).toMatchObject({ subcommand: 'plan', chdir: 'infra' });
  });
});

describe('parseInvocationArgs: locking flags', () => {
  test.each([
    [['apply', '-lock=false'], true],
    [['apply', '--lock=false'], true],
    [['apply', '-lock=0'], true],
    [['apply', '-lock=f'], true],
    [['apply', '-lock=F'], true],
    [['apply', '-lock=FALSE'], true],
    [['apply', '-lock=False'], true],
    [['apply', '-lock=fAlSe'], false], // Go rejects it: terraform would not run
    [['apply', '-lock=true'], false],
    [['apply', '-lock'], false],
    [['apply', '-lock', 'false'], false], // boolean flag: "false" is a positional
    [['apply', '-lock=false', '-lock=true'], false], // last one wins
    [['apply', '-lock=true', '-lock=false'], true],
    [['apply', 'tfplan', '-lock=false'], true], // misplaced, still flagged
    [['apply', '--', '-lock=false'], false], // after --, a positional
    [['-chdir=x', 'destroy', '-auto-approve', '-lock=false'], true],
  ])('%j → lockDisabled %s', (args, disabled) => {
    expect(parseInvocationArgs(args).lockDisabled).toBe(disabled);
  });

  test.each([
    [['plan'], undefined],
    [['plan', '-lock-timeout=10s'], 10_000],
    [['plan', '--lock-timeout=1m30s'], 90_000],
    [['plan', '-lock-timeout', '500ms'], 500],
    [['apply', '-lock-timeout=0'], 0],
    [['apply', '-lock-timeout=2h'], 7_200_000],
    [['apply', '-lock-timeout=10'], -1],
    [['apply', '-lock-timeout='], -1],
    [['apply', '-lock-timeout'], -1],
    [['apply', '-lock-timeout=5s', '-lock-timeout=60s'], 60_000],
  ])('%j → lockTimeoutMs %s', (args, ms) => {
    expect(parseInvocationArgs(args).lockTimeoutMs).toBe(ms);
  });

  test('value flags consume their value, so it is not taken for a positional', () => {
    expect(parseInvocationArgs(['apply', '-var', 'x=-lock=false', '-auto-approve']).lockDisabled).toBe(false);
  });
});

describe('parseInvocationArgs: force-unlock', () => {
  test.each([
    [['force-unlock', '-force', 'a1b2-c3'], 'a1b2-c3'],
    [['force-unlock', 'a1b2-c3', '-force'], 'a1b2-c3'],
    [['force-unlock', '--force', '--', 'a1b2-c3'], 'a1b2-c3'],
    [['-chdir=infra', 'force-unlock', '-force', 'id'], 'id'],
    [['force-unlock', '-force'], undefined],
  ])('%j → lockId %s', (args, lockId) => {
    const parsed = parseInvocationArgs(args);
    expect(parsed.subcommand).toBe('force-unlock');
    expect(parsed.stateWriting).toBe(false);
    expect(parsed.lockId).toBe(lockId);
  });

  test('lockId is only set for force-unlock', () => {
    expect(parseInvocationArgs(['apply', 'tfplan'])).not.toHaveProperty('lockId');
  });
});
