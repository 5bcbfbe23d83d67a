import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from '@jest/globals';
import { applyEnvArgs, effectiveArgs, envArgsVariable, parseGoDuration, parseInvocationArgs, splitShellWords } from './terraform-args.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

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
    ['2562047h', 9_223_369_200_000],
  ])('%s → %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toBeCloseTo(ms, 9);
  });

  test.each(['', '10', '00', 's', '.s', '10x', '1d', '10 s', 'ten', '1m-3s', '-', '1..5s', '2562048h', '3000000h', '9223372037s', '99999999999999999999ns'])('%j is invalid', (text) => {
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
    [['-chdir'], '', false],
    [['--', 'apply'], 'apply', true],
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
    [['apply', '--lock=0'], true],
    [['apply', '-lock=fAlSe'], false], // Go rejects it: terraform would not run (see `rejected`)
    [['apply', '-lock=no'], false], // likewise
    [['apply', '-lock=true'], false],
    [['apply', '-lock=1'], false],
    [['apply', '-lock=t'], false],
    [['apply', '-lock=T'], false],
    [['apply', '-lock=TRUE'], false],
    [['apply', '-lock=True'], false],
    [['apply', '-lock=false', '-lock=1'], false],
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
    [['apply', '-lock-timeout=5s', '-lock-timeout=60s'], 60_000],
    [['plan', '-lock-timeout=90s'], 90_000],
    [['plan', '-lock-timeout=1h'], 3_600_000],
  ])('%j → lockTimeoutMs %s', (args, ms) => {
    const parsed = parseInvocationArgs(args);
    expect(parsed.lockTimeoutMs).toBe(ms);
    expect(parsed).not.toHaveProperty('lockTimeoutInvalid');
    expect(parsed).not.toHaveProperty('rejected');
  });

  // terraform refuses these command lines (exit 1) before doing anything; the
  // messages are terraform 1.11.4's own, see fixtures/terraform-output/flag-*.txt.
  test.each([
    [['plan', '-lock-timeout=300'], 'invalid value "300" for flag -lock-timeout: parse error'],
    [['apply', '-lock-timeout=10'], 'invalid value "10" for flag -lock-timeout: parse error'],
    [['apply', '-lock-timeout='], 'invalid value "" for flag -lock-timeout: parse error'],
    [['apply', '-lock-timeout=2d'], 'invalid value "2d" for flag -lock-timeout: parse error'],
    [['apply', '-lock-timeout'], 'flag needs an argument: -lock-timeout'],
    // the first error stops terraform; a later valid value does not repair it
    [['apply', '-lock-timeout=300', '-lock-timeout=60s'], 'invalid value "300" for flag -lock-timeout: parse error'],
    [['apply', '-lock-timeout=60s', '-lock-timeout=300'], 'invalid value "300" for flag -lock-timeout: parse error'],
  ])('%j → lockTimeoutInvalid, rejected %j', (args, message) => {
    const parsed = parseInvocationArgs(args);
    expect(parsed.lockTimeoutMs).toBeUndefined();
    expect(parsed.lockTimeoutInvalid).toBe(true);
    expect(parsed.rejected).toBe(message);
  });

  test.each([
    [['apply', '-lock=fAlSe'], 'invalid boolean value "fAlSe" for -lock: parse error'],
    [['apply', '-lock=maybe'], 'invalid boolean value "maybe" for -lock: parse error'],
    [['apply', '-lock='], 'invalid boolean value "" for -lock: parse error'],
    // only the first error is terraform's message; -lock=false after it still shows the intent
    [['apply', '-lock=no', '-lock-timeout=300', '-lock=false'], 'invalid boolean value "no" for -lock: parse error'],
  ])('%j → rejected %j', (args, message) => {
    expect(parseInvocationArgs(args).rejected).toBe(message);
  });

  test('the rejected -lock-timeout=300 message is what real terraform printed', () => {
    const output = readFileSync(path.join(REPO, 'fixtures', 'terraform-output', 'flag-lock-timeout-no-unit.txt'), 'utf8');
    expect(output).toContain(`│ ${parseInvocationArgs(['plan', '-lock-timeout=300']).rejected}`);
    const viaEnv = readFileSync(path.join(REPO, 'fixtures', 'terraform-output', 'flag-lock-timeout-env.txt'), 'utf8');
    expect(viaEnv).toContain(`│ ${parseInvocationArgs(['apply', '-auto-approve'], { TF_CLI_ARGS_apply: '-lock-timeout=300' }).rejected}`);
    const bool = readFileSync(path.join(REPO, 'fixtures', 'terraform-output', 'flag-lock-invalid-bool.txt'), 'utf8');
    expect(bool).toContain(`│ ${parseInvocationArgs(['apply', '-lock=maybe']).rejected}`);
    const env = readFileSync(path.join(REPO, 'fixtures', 'terraform-output', 'flag-env-unparsable.txt'), 'utf8');
    expect(env.trim()).toBe(parseInvocationArgs(['plan'], { TF_CLI_ARGS: "-lock-timeout='60s" }).rejected);
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

describe('splitShellWords (go-shellwords v1.0.12, as terraform splits TF_CLI_ARGS)', () => {
  test.each([
    ['-lock=false', ['-lock=false']],
    ['  -lock=false \t-no-color\n\r-input=false  ', ['-lock=false', '-no-color', '-input=false']],
    ['', []],
    ['   ', []],
    // measured: terraform 1.11.4 logged these words for this TF_CLI_ARGS_plan (TF_LOG=info)
    [`-lock-timeout=60s 'a b' "c\\"d" e\\ f g;h i`, ['-lock-timeout=60s', 'a b', 'c"d', 'e f', 'g']],
    [`'it''s'`, ['its']],
    [`'a\\b'`, ['a\\b']], // no escapes inside single quotes
    [`"a\\b\\$c"`, ['ab$c']], // a backslash escapes any character inside double quotes
    [`"say 'hi'"`, ["say 'hi'"]],
    [`'say "hi"'`, ['say "hi"']],
    ['"" x', ['', 'x']], // an empty quoted word is a word
    ['a"b c"d', ['ab cd']],
    ['$HOME ${X}', ['$HOME', '${X}']], // no expansion
    ['`a b` c', ['`a b`', 'c']], // backticks kept, with their blanks
    ['$(a b) c', ['$(a b)', 'c']],
    ['a)b)', ['a)b)']], // each ) toggles; an even number is fine
    ['-x & -y', ['-x']],
    ['-x|-y', ['-x']],
    ['-x <in', ['-x']],
    ['-x >out', ['-x']],
    ['-x 2>err', ['-x']], // the 2 of 2> is a file descriptor, not a word
    ['-x 22a>err', ['-x']],
    ['-x a>err', ['-x', 'a']],
    ['"a;b" \';\' c\\;d', ['a;b', ';', 'c;d']],
    ['\\"', ['"']],
    [`'(x)' "(y)"`, ['(x)', '(y)']], // parentheses are plain inside quotes
    ['"a`b" \'c`d\'', ['a`b', 'c`d']], // so are backticks
  ])('%j → %j', (text, words) => {
    expect(splitShellWords(text)).toEqual(words);
  });

  // measured: terraform exits 1 with "invalid command line string" for the first two
  test.each([`-lock-timeout='60s`, '(x)', '"open', 'trailing\\', '`open', 'a)', '$(a', '$((a))', 'a(b'])('%j is an error', (text) => {
    expect(splitShellWords(text)).toBeUndefined();
  });
});

describe('envArgsVariable', () => {
  test.each([
    ['apply', 'TF_CLI_ARGS_apply'],
    ['plan', 'TF_CLI_ARGS_plan'],
    ['state push', 'TF_CLI_ARGS_state_push'],
    ['state replace-provider', 'TF_CLI_ARGS_state_replace_provider'],
    ['force-unlock', 'TF_CLI_ARGS_force_unlock'],
    ['', 'TF_CLI_ARGS_'],
  ])('%j → %s', (subcommand, name) => {
    expect(envArgsVariable(subcommand)).toBe(name);
  });
});

describe('effectiveArgs / applyEnvArgs: terraform main.go mergeEnvArgs', () => {
  // Every "measured" row is what terraform 1.11.4 logged as "CLI command args"
  // with TF_LOG=info for the same arguments and environment (-chdir aside: terraform
  // strips it first, so it is not in its log).
  test.each([
    ['no variables', ['apply', '-auto-approve'], {}, ['apply', '-auto-approve']],
    ['empty values add nothing', ['apply'], { TF_CLI_ARGS: '', TF_CLI_ARGS_apply: '' }, ['apply']],
    ['another command\'s variable is ignored', ['apply'], { TF_CLI_ARGS_plan: '-lock=false' }, ['apply']],
    ['TF_CLI_ARGS goes right after the subcommand', ['apply', '-auto-approve'], { TF_CLI_ARGS: '-lock=false' }, ['apply', '-lock=false', '-auto-approve']],
    [
      'measured: the command\'s variable comes before TF_CLI_ARGS, both before the user\'s args',
      ['plan', '-input=false'],
      { TF_CLI_ARGS: '-no-color -lock-timeout=5s', TF_CLI_ARGS_plan: `-lock-timeout=60s 'a b' "c\\"d" e\\ f g;h i` },
      ['plan', '-lock-timeout=60s', 'a b', 'c"d', 'e f', 'g', '-no-color', '-lock-timeout=5s', '-input=false'],
    ],
    ['measured: nested command, its own variable only', ['state', 'list'], { TF_CLI_ARGS_state_list: '-state=x', TF_CLI_ARGS_state: '-bogus' }, ['state', 'list', '-state=x']],
    ['measured: dashes become underscores', ['force-unlock', 'abc'], { TF_CLI_ARGS_force_unlock: '-force' }, ['force-unlock', '-force', 'abc']],
    ['measured: global options stay in front', ['-no-color', 'apply', '-help'], { TF_CLI_ARGS_apply: '-lock=false' }, ['-no-color', 'apply', '-lock=false', '-help']],
    ['measured: inserted after the first word equal to the subcommand', ['plan', 'plan'], { TF_CLI_ARGS_plan: 'x' }, ['plan', 'x', 'plan']],
    ['measured: no subcommand, in front', [], { TF_CLI_ARGS: '-no-color' }, ['-no-color']],
    ['-chdir before the subcommand', ['-chdir=infra', 'apply'], { TF_CLI_ARGS_apply: '-lock=false' }, ['-chdir=infra', 'apply', '-lock=false']],
    ['state push', ['state', 'push', 'x.tfstate'], { TF_CLI_ARGS_state_push: '-lock=false' }, ['state', 'push', '-lock=false', 'x.tfstate']],
  ])('%s', (_name, args, env: Record<string, string>, want) => {
    expect(effectiveArgs(args, env)).toEqual(want);
    expect(applyEnvArgs(args, env).error).toBeUndefined();
  });

  test('sources name the variables that added words, in terraform\'s order', () => {
    expect(applyEnvArgs(['apply'], { TF_CLI_ARGS: '-no-color', TF_CLI_ARGS_apply: "-lock=false -var 'a=b c'" }).sources).toEqual([
      { name: 'TF_CLI_ARGS', value: '-no-color', words: ['-no-color'] },
      { name: 'TF_CLI_ARGS_apply', value: "-lock=false -var 'a=b c'", words: ['-lock=false', '-var', 'a=b c'] },
    ]);
  });

  test.each([
    ['TF_CLI_ARGS', { TF_CLI_ARGS: "-lock-timeout='60s", TF_CLI_ARGS_plan: '-lock=false' }, 0],
    ['TF_CLI_ARGS_plan', { TF_CLI_ARGS: '-no-color', TF_CLI_ARGS_plan: '(x)' }, 1],
  ])('a variable terraform cannot split (%s): its message, the args unchanged', (name, env: Record<string, string>, sources) => {
    const merged = applyEnvArgs(['plan'], env);
    expect(merged.error).toBe(`Error parsing extra CLI args from ${name}: invalid command line string`);
    expect(merged.args).toEqual(['plan']);
    expect(merged.sources).toHaveLength(sources);
    expect(effectiveArgs(['plan'], env)).toEqual(['plan']);
  });
});

describe('parseInvocationArgs with the environment', () => {
  test.each([
    ['TF_CLI_ARGS_apply=-lock=false (the issue)', ['apply', '-auto-approve'], { TF_CLI_ARGS_apply: '-lock=false' }, true, undefined],
    ['TF_CLI_ARGS_plan=-lock-timeout=60s (the issue)', ['plan', '-out=tfplan'], { TF_CLI_ARGS_plan: '-lock-timeout=60s' }, false, 60_000],
    ['TF_CLI_ARGS applies to every command', ['apply'], { TF_CLI_ARGS: '-lock=0 -lock-timeout=1m30s' }, true, 90_000],
    ['TF_CLI_ARGS beats TF_CLI_ARGS_plan (it comes later)', ['plan'], { TF_CLI_ARGS: '-lock-timeout=5s', TF_CLI_ARGS_plan: '-lock-timeout=60s' }, false, 5_000],
    ['the command line beats both', ['plan', '-lock-timeout=60s'], { TF_CLI_ARGS: '-lock-timeout=5s' }, false, 60_000],
    ['-lock=true on the command line re-enables locking', ['apply', '-lock=true'], { TF_CLI_ARGS_apply: '--lock=FALSE' }, false, undefined],
    ['TF_CLI_ARGS_plan does not reach apply', ['apply'], { TF_CLI_ARGS_plan: '-lock=false -lock-timeout=60s' }, false, undefined],
    ['state push', ['state', 'push', 'x.tfstate'], { TF_CLI_ARGS_state_push: '-lock=f' }, true, undefined],
  ])('%s', (_name, args, env: Record<string, string>, lockDisabled, lockTimeoutMs) => {
    const parsed = parseInvocationArgs(args, env);
    expect(parsed.lockDisabled).toBe(lockDisabled);
    expect(parsed.lockTimeoutMs).toBe(lockTimeoutMs);
    expect(parsed.fromEnvironment?.map((source) => source.name) ?? []).toEqual(
      Object.keys(env).filter((name) => name === 'TF_CLI_ARGS' || name === envArgsVariable(parsed.subcommand)).sort(),
    );
  });

  test('an environment without TF_CLI_ARGS changes nothing and adds no fields', () => {
    expect(parseInvocationArgs(['apply', '-lock=false'], {})).toEqual(parseInvocationArgs(['apply', '-lock=false']));
    expect(parseInvocationArgs(['apply'], {})).not.toHaveProperty('fromEnvironment');
  });

  test('a no-unit -lock-timeout from TF_CLI_ARGS_plan is invalid, and terraform refuses', () => {
    expect(parseInvocationArgs(['plan'], { TF_CLI_ARGS_plan: '-lock-timeout=300' })).toMatchObject({
      lockTimeoutMs: undefined,
      lockTimeoutInvalid: true,
      rejected: 'invalid value "300" for flag -lock-timeout: parse error',
    });
  });

  test('an unsplittable TF_CLI_ARGS: terraform refuses; the recorded args are still read', () => {
    expect(parseInvocationArgs(['apply', '-lock=false'], { TF_CLI_ARGS: '"' })).toMatchObject({
      lockDisabled: true,
      rejected: 'Error parsing extra CLI args from TF_CLI_ARGS: invalid command line string',
    });
  });
});
