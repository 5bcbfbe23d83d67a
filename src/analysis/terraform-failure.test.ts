// Every fixture under fixtures/terraform-output/ is the real output of
// terraform 1.11.4 against the embedded backend (ANSI stripped); see the README
// there for the commands that produced each.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from '@jest/globals';
import { classifyTerraformFailure, describeFailure, type TerraformFailure, type TerraformFailureKind } from './terraform-failure.ts';

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'terraform-output');
const read = (name: string): string => readFileSync(path.join(DIR, `${name}.txt`), 'utf8');
const HOLDER = { id: '06681022-fe95-cbf2-d8c5-5aa504d2c311', operation: 'OperationTypeApply', who: 'root@vm' };
const HELD = `the lock was held for OperationTypeApply by root@vm (ID ${HOLDER.id})`;

// [fixture, exit code terraform returned, kind, detail]
const REAL: Array<[string, number, TerraformFailureKind, string]> = [
  ['flag-lock-timeout-no-unit', 1, 'rejected-flag', 'invalid value "300" for flag -lock-timeout: parse error'],
  ['flag-lock-timeout-env', 1, 'rejected-flag', 'invalid value "300" for flag -lock-timeout: parse error'],
  ['flag-lock-invalid-bool', 1, 'rejected-flag', 'invalid boolean value "maybe" for -lock: parse error'],
  ['flag-undefined', 1, 'rejected-flag', 'flag provided but not defined: -lock-timout'],
  ['flag-env-unparsable', 1, 'rejected-flag', 'Error parsing extra CLI args from TF_CLI_ARGS: invalid command line string'],
  ['stale-plan', 1, 'stale-plan', 'Saved plan is stale'],
  ['lock-timeout-2s-plan', 1, 'lock-timeout', HELD],
  ['lock-timeout-2s-apply', 1, 'lock-timeout', HELD],
  ['lock-refused-0s', 1, 'lock-refused', HELD],
  ['lock-refused-default', 1, 'lock-refused', HELD],
  ['auth-missing', 1, 'backend-auth', 'No valid credential sources found'],
  ['auth-wrong', 1, 'backend-auth', 'InvalidAccessKeyId: The AWS Access Key Id you provided does not exist in our records.'],
  [
    'lock-table-missing',
    1,
    'other',
    'Error acquiring the state lock: ResourceNotFoundException: Requested resource not found (no other run held it)',
  ],
  ['release-failed', 1, 'other', 'Error releasing the state lock: failed to retrieve lock info for lock ID "57d53f42-9c6c-b1f2-cb6a-ac49e4a699d6": unexpected end of JSON input'],
  ['plan-changes-exit-0', 0, 'other', 'exit 0: terraform did not fail'],
];

describe('classifyTerraformFailure on real terraform output', () => {
  test('every fixture is in the table', () => {
    const files = readdirSync(DIR).filter((name) => name.endsWith('.txt')).map((name) => name.slice(0, -4)).sort();
    expect(REAL.map(([name]) => name).sort()).toEqual(files);
  });

  test.each(REAL)('%s (exit %d) → %s', (name, exitCode, kind, detail) => {
    const failure = classifyTerraformFailure(read(name), exitCode);
    expect(failure.kind).toBe(kind);
    expect(failure.detail).toBe(detail);
    if (kind === 'lock-timeout' || kind === 'lock-refused') expect(failure.holder).toEqual(HOLDER);
    else expect(failure.holder).toBeUndefined();
  });
});

describe('classifyTerraformFailure: variants', () => {
  const colour = (text: string): string => text.split('\n').map((line) => (line.startsWith('│') ? `\x1b[31m│\x1b[0m \x1b[0m${line.slice(2)}\x1b[0m` : line)).join('\n');

  test.each<[string, string, number | null, TerraformFailureKind]>([
    ['colours (as a pipeline prints them)', colour(read('stale-plan')), 1, 'stale-plan'],
    ['a phrase wrapped onto the next line', read('lock-refused-0s').replace('Error acquiring the state lock', 'Error acquiring the\n│ state lock'), 1, 'lock-refused'],
    ['CRLF', read('lock-timeout-2s-plan').replaceAll('\n', '\r\n'), 1, 'lock-timeout'],
    // a script's log: an earlier command waited for the lock and finished; the last one was refused at once
    ['earlier wait belongs to another command', `Acquiring state lock. This may take a few moments...\n${read('plan-changes-exit-0')}\n${read('lock-refused-0s')}`, 1, 'lock-refused'],
    ['the last failure decides', `${read('stale-plan')}\n${read('lock-refused-default')}`, 1, 'lock-refused'],
    ['the last failure decides (other order)', `${read('lock-refused-default')}\n${read('stale-plan')}`, 1, 'stale-plan'],
    ['killed, with a lock error before', read('lock-timeout-2s-apply'), null, 'lock-timeout'],
    // older Go versions worded flag errors differently
    ['older Go duration error', 'invalid value "300" for flag -lock-timeout: time: missing unit in duration "300"\nUsage: terraform [global options] plan [options]', 1, 'rejected-flag'],
    ['older Go bool error', 'invalid boolean value "no" for -lock: strconv.ParseBool: parsing "no": invalid syntax', 1, 'rejected-flag'],
    ['missing flag value', 'flag needs an argument: -lock-timeout', 1, 'rejected-flag'],
    ['too many arguments alone', '╷\n│ Error: Too many command line arguments\n│ \n│ Expected at most one positional argument.\n╵', 1, 'rejected-flag'],
    ['SignatureDoesNotMatch', 'Error: error loading state: operation error S3: GetObject, https response error StatusCode: 403, api error SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided.', 1, 'backend-auth'],
    // bare words never decide
    ['the word "stale" alone', '╷\n│ Error: Failed to read plugin cache: stale entry\n╵', 1, 'other'],
    ['"invalid value" of a variable', '╷\n│ Error: Invalid value for input variable\n│ \n│ The given value is not suitable for var.release.\n╵', 1, 'other'],
    ['the lock=false advice in a lock error is not a flag error', read('lock-refused-0s'), 1, 'lock-refused'],
  ])('%s → %s', (_name, output, exitCode, kind) => {
    expect(classifyTerraformFailure(output, exitCode).kind).toBe(kind);
  });

  test.each([
    ['the last "Error:" summary', '╷\n│ Error: Unsupported argument\n│ \n│ An argument named "x" is not expected here.\n╵\n', 1, 'Error: Unsupported argument An argument named "x" is not expected here.'],
    ['no terraform text, exit code', 'bash: line 3: terrafrom: command not found\n', 127, 'exit 127'],
    ['no terraform text, killed', '', null, 'ended by a signal'],
    ['a long summary is shortened', `Error: ${'x'.repeat(300)}`, 1, `Error: ${'x'.repeat(240)}…`],
  ])('other: %s', (_name, output, exitCode, detail) => {
    expect(classifyTerraformFailure(output, exitCode)).toEqual({ kind: 'other', detail });
  });

  test('the caller\'s -lock-timeout decides between waited and refused', () => {
    expect(classifyTerraformFailure(read('lock-timeout-2s-plan'), 1, { lockTimeoutMs: 0 }).kind).toBe('lock-refused');
    expect(classifyTerraformFailure(read('lock-refused-0s'), 1, { lockTimeoutMs: 2000 }).kind).toBe('lock-timeout');
  });

  test('a lock error whose message has no AWS error is shortened', () => {
    const message = `x${'y'.repeat(300)}`;
    expect(classifyTerraformFailure(`Error: Error acquiring the state lock\nError message: ${message}\n`, 1).detail).toBe(
      `Error acquiring the state lock: ${message.slice(0, 240)}… (no other run held it)`,
    );
  });

  test('an unlock error without an Error message line', () => {
    expect(classifyTerraformFailure('Error: Error releasing the state lock\n', 1)).toEqual({ kind: 'other', detail: 'Error releasing the state lock' });
  });

  test('a lock error without an Error message line', () => {
    expect(classifyTerraformFailure('Error: Error acquiring the state lock\n', 1)).toEqual({ kind: 'other', detail: 'Error acquiring the state lock (no other run held it)' });
  });

  test('a holder block without Operation/Who still names the ID', () => {
    expect(classifyTerraformFailure('Error: Error acquiring the state lock\nLock Info:\n  ID: abc\n', 1)).toEqual({
      kind: 'lock-refused',
      detail: 'the lock was held (ID abc)',
      holder: { id: 'abc' },
    });
  });
});

describe('describeFailure: one sentence per kind', () => {
  const f = (kind: TerraformFailureKind, detail: string): TerraformFailure => ({ kind, detail });
  test.each<[TerraformFailure, { lockTimeoutMs?: number }, string]>([
    [
      classifyTerraformFailure(read('flag-lock-timeout-no-unit'), 1),
      {},
      'terraform rejected the command line: invalid value "300" for flag -lock-timeout: parse error (a Go duration needs a unit, e.g. 300s)',
    ],
    [classifyTerraformFailure(read('flag-lock-invalid-bool'), 1), {}, 'terraform rejected the command line: invalid boolean value "maybe" for -lock: parse error (-lock takes true or false)'],
    [classifyTerraformFailure(read('flag-undefined'), 1), {}, 'terraform rejected the command line: flag provided but not defined: -lock-timout (check the spelling of the flag)'],
    [
      classifyTerraformFailure(read('flag-env-unparsable'), 1),
      {},
      'terraform rejected the command line: Error parsing extra CLI args from TF_CLI_ARGS: invalid command line string (check the quotes in TF_CLI_ARGS)',
    ],
    [f('rejected-flag', 'Too many command line arguments'), {}, 'terraform rejected the command line: Too many command line arguments'],
    [
      classifyTerraformFailure(read('stale-plan'), 1),
      {},
      'the saved plan was stale: another run changed the state after it was made; make a new plan once you hold the lock (or apply without a saved plan)',
    ],
    [classifyTerraformFailure(read('lock-timeout-2s-plan'), 1), { lockTimeoutMs: 60_000 }, 'its -lock-timeout of 60 s ran out while another run held the lock'],
    [f('lock-timeout', ''), { lockTimeoutMs: 2000 }, 'its -lock-timeout of 2 s ran out while another run held the lock'],
    [f('lock-timeout', ''), { lockTimeoutMs: 1500 }, 'its -lock-timeout of 1.5 s ran out while another run held the lock'],
    [f('lock-timeout', ''), { lockTimeoutMs: 500 }, 'its -lock-timeout of 500 ms ran out while another run held the lock'],
    [f('lock-timeout', ''), { lockTimeoutMs: 90_000 }, 'its -lock-timeout of 90 s ran out while another run held the lock'],
    [f('lock-timeout', ''), { lockTimeoutMs: 900_000 }, 'its -lock-timeout of 15 min ran out while another run held the lock'],
    [f('lock-timeout', ''), { lockTimeoutMs: 630_500 }, 'its -lock-timeout of 630.5 s ran out while another run held the lock'],
    [f('lock-timeout', ''), {}, 'its -lock-timeout ran out while another run held the lock'],
    [classifyTerraformFailure(read('lock-refused-0s'), 1), {}, 'it gave up at once because another run held the lock'],
    [f('lock-refused', ''), { lockTimeoutMs: 0 }, 'it gave up at once because another run held the lock and it had no -lock-timeout (e.g. -lock-timeout=60s waits)'],
    [classifyTerraformFailure(read('auth-missing'), 1), {}, 'terraform could not authenticate to the state backend: No valid credential sources found'],
    [f('other', 'exit 127'), {}, 'terraform failed: exit 127'],
  ])('%j %j', (failure, context, sentence) => {
    expect(describeFailure(failure, context)).toBe(sentence);
  });

  test('the context is optional', () => {
    expect(describeFailure(f('lock-refused', ''))).toBe('it gave up at once because another run held the lock');
  });
});
