import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from '@jest/globals';
import { judgeTranscriptPlausibility, normalizeTranscript, parseLockTranscript, type TranscriptLockInfo } from './transcript.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURES = path.join(REPO, 'fixtures', 'transcripts');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Expected = { ok: false } | (TranscriptLockInfo & { lockErrorSeen: boolean });

const fixtures = readdirSync(FIXTURES)
  .filter((name) => name.endsWith('.txt'))
  .sort()
  .map((name) => {
    const base = name.slice(0, -'.txt'.length);
    const text = readFileSync(path.join(FIXTURES, name), 'utf8');
    const expected = JSON.parse(readFileSync(path.join(FIXTURES, `${base}.json`), 'utf8')) as Expected;
    return [base, text, expected] as const;
  });

const LOCK = [
  'Error: Error acquiring the state lock',
  '',
  'Error message: ConditionalCheckFailedException: The conditional request failed',
  'Lock Info:',
  '  ID:        cc40ef61-d61c-5066-937e-44f8ca3ff96d',
  '  Path:      tfstate/lab/terraform.tfstate',
  '  Operation: OperationTypeApply',
  '  Who:       root@vm',
  '  Version:   1.11.4',
  '  Created:   2026-11-26 22:01:31.626623807 +0000 UTC',
  '  Info:      ',
  '',
  'Terraform acquires a state lock to protect the state from being written',
];

const WANT: TranscriptLockInfo = {
  id: 'cc40ef61-d61c-5066-937e-44f8ca3ff96d',
  path: 'tfstate/lab/terraform.tfstate',
  operation: 'OperationTypeApply',
  who: 'root@vm',
  version: '1.11.4',
  created: '2026-11-26 22:01:31.626623807 +0000 UTC',
  info: '',
};

function lockOf(text: string): TranscriptLockInfo {
  const result = parseLockTranscript(text);
  if (!result.ok) throw new Error(`expected a lock, got: ${result.reason}`);
  return result.lock;
}

function reasonOf(text: string): string {
  const result = parseLockTranscript(text);
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.lock)}`);
  return result.reason;
}

describe('fixtures/transcripts', () => {
  test('has good and bad fixtures', () => {
    expect(fixtures.filter(([name]) => !name.startsWith('bad-')).length).toBeGreaterThanOrEqual(10);
    expect(fixtures.filter(([name]) => name.startsWith('bad-')).length).toBeGreaterThanOrEqual(3);
  });

  test.each(fixtures)('%s', (name, text, expected) => {
    const result = parseLockTranscript(text);
    if ('ok' in expected) {
      expect(name.startsWith('bad-')).toBe(true);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.reason).toContain("'Lock Info:' block with an 'ID:' line");
      return;
    }
    const { lockErrorSeen, ...lock } = expected;
    expect(result).toEqual({ ok: true, lock, lockErrorSeen });
    if (result.ok) expect(result.lock.id).toMatch(UUID);
  });
});

describe('normalizeTranscript', () => {
  test('strips BOM, CRLF, ANSI, box prefixes and edges, trailing spaces, tabs', () => {
    const text = '\uFEFF\x1b[31m╷\x1b[0m\r\n\x1b[31m│\x1b[0m \x1b[1m\x1b[31mError: \x1b[0mX  \r\n│   ID:\tabc\r\n\x1b[31m╵\x1b[0m\r\n';
    expect(normalizeTranscript(text)).toEqual(['', 'Error: X', '  ID: abc', '', '']);
  });

  test.each([
    ['GitHub Actions', '2026-11-26T22:01:31.6266238Z Lock Info:'],
    ['GitLab', '2026-11-26T22:01:31.626Z 00O Lock Info:'],
    ['GitLab stderr', '2026-11-26T22:01:31.626000Z 01E Lock Info:'],
    ['Jenkins ISO', '[2026-11-26T22:01:31.626Z] Lock Info:'],
    ['Jenkins clock', '[22:01:31] Lock Info:'],
    ['HH:MM:SS', '22:01:31 Lock Info:'],
    ['caret-notation ANSI', '^[[1mLock Info:^[[0m'],
    ['ANSI without ESC', '[0m[1mLock Info:[0m'],
  ])('%s prefix', (_name, line) => {
    expect(normalizeTranscript(line)).toEqual(['Lock Info:']);
  });

  test("merges a GitLab '+' continuation into the previous line", () => {
    const text = '2026-11-26T22:01:31.626000Z 01E │   Who:       runner@fv-az1\n2026-11-26T22:01:31.626001Z 01E+23.example.net\n';
    expect(normalizeTranscript(text)).toEqual(['  Who:       runner@fv-az123.example.net', '']);
  });

  test('keeps a bare HH:MM:SS at the start of a line unless most lines carry one', () => {
    expect(normalizeTranscript('  Created:   2026-11-26\n22:01:31.626623807 +0000 UTC')).toEqual([
      '  Created:   2026-11-26',
      '22:01:31.626623807 +0000 UTC',
    ]);
  });
});

describe('parseLockTranscript', () => {
  test('plain -no-color block', () => {
    expect(parseLockTranscript(LOCK.join('\n'))).toEqual({ ok: true, lock: WANT, lockErrorSeen: true });
  });

  test('a block without the error line still parses, with lockErrorSeen false', () => {
    expect(parseLockTranscript(LOCK.slice(3).join('\n'))).toEqual({ ok: true, lock: WANT, lockErrorSeen: false });
  });

  test('lockErrorSeen survives a wrap inside the phrase and any case', () => {
    const text = ['Error: Error locking state: ERROR ACQUIRING THE STA', 'TE LOCK: failed', ...LOCK.slice(3)].join('\n');
    const result = parseLockTranscript(text);
    expect(result.ok && result.lockErrorSeen).toBe(true);
  });

  test('ID split at several points by a narrow pane is rejoined into a UUID', () => {
    const text = LOCK.join('\n').replace('cc40ef61-d61c-5066-937e-44f8ca3ff96d', 'cc40ef61-d61c\n-5066-937e-44f8\nca3ff96d');
    expect(lockOf(text).id).toBe(WANT.id);
  });

  test('Who split after the @ and a word-wrapped value moved to the next line', () => {
    const text = LOCK.join('\n')
      .replace('root@vm', 'runner@\nfv-az123-456.internal.cloudapp.net')
      .replace('Path:      tfstate/lab/terraform.tfstate', 'Path:\ntfstate/lab/terraform.tfstate');
    expect(lockOf(text)).toMatchObject({ who: 'runner@fv-az123-456.internal.cloudapp.net', path: WANT.path });
  });

  test.each([
    ['between date and time', '2026-11-26\n22:01:31.626623807 +0000 UTC'],
    ['inside the fraction', '2026-11-26 22:01:31.6266\n23807 +0000 UTC'],
    ['inside the zone', '2026-11-26 22:01:31.626623807 +0000 U\nTC'],
    ['before the zone name', '2026-11-26 22:01:31.626623807 +0000\nUTC'],
  ])('Created wrapped %s', (_name, created) => {
    expect(lockOf(LOCK.join('\n').replace(WANT.created ?? '', created)).created).toBe(WANT.created);
  });

  test('a non-UUID ID is returned as is', () => {
    const text = LOCK.join('\n').replace(WANT.id, '1764194491626623807');
    expect(lockOf(text).id).toBe('1764194491626623807');
  });

  test('prose right after the block (blank lines lost) is not taken into Info or Created', () => {
    const text = LOCK.filter((line) => line !== '').join('\n');
    expect(lockOf(text)).toEqual(WANT);
  });

  test('fields on the Lock Info line itself and missing optional fields', () => {
    expect(lockOf('Lock Info: ID: abc-123\n  Who: me@host\n')).toEqual({ id: 'abc-123', who: 'me@host' });
  });

  test('the last block wins', () => {
    const text = [...LOCK, '', ...LOCK.map((line) => line.replace('cc40ef61', 'dd40ef61'))].join('\n');
    expect(lockOf(text).id).toBe('dd40ef61-d61c-5066-937e-44f8ca3ff96d');
  });

  test('a repeated key ends the block', () => {
    const text = 'Lock Info:\n  ID: first\n  Who: a@b\n  ID: second\n';
    expect(lockOf(text)).toEqual({ id: 'first', who: 'a@b' });
  });

  test.each([
    ['empty', '', 'The transcript is empty'],
    ['whitespace', ' \r\n\t\r\n', 'The transcript is empty'],
    ['error without block', LOCK.slice(0, 3).join('\n'), 'Found "Error acquiring the state lock" but no \'Lock Info:\' line'],
    ['succeeded plan', 'Plan: 1 to add, 0 to change, 0 to destroy.\n', 'This plan succeeded'],
    ['unrelated text', 'hello\nworld\n', 'Found 2 non-blank line(s), starting with "hello"'],
    ['block without ID', LOCK.filter((line) => !line.includes('ID:')).join('\n'), "with path, operation, who, version, created, info, but no 'ID:' line"],
    ['block with empty ID', LOCK.join('\n').replace(WANT.id, ''), "its 'ID:' line is empty"],
    ['only the last block counts', [...LOCK, 'Lock Info:', ''].join('\n'), "on line 14 with no fields, but no 'ID:' line"],
  ])('fails: %s', (_name, text, reason) => {
    const got = reasonOf(text);
    expect(got).toContain(reason);
    expect(got).toContain("Expected a 'Lock Info:' block with an 'ID:' line, as printed under 'Error acquiring the state lock'");
  });
});

describe('judgeTranscriptPlausibility', () => {
  const honest = fixtures.filter(([name]) => !name.startsWith('bad-'));

  test.each(honest)('honest fixture %s is plausible (no bucket/key known)', (_name, text) => {
    expect(judgeTranscriptPlausibility(text, {})).toEqual([]);
  });

  test.each(honest)('honest fixture %s is plausible for its own bucket/key', (_name, text, expected) => {
    const path = 'path' in expected ? (expected.path ?? '') : '';
    const slash = path.indexOf('/');
    const bucket = path.slice(0, slash);
    const key = path.slice(slash + 1);
    expect(judgeTranscriptPlausibility(text, { bucket, key })).toEqual([]);
    expect(judgeTranscriptPlausibility(text, { bucket })).toEqual([]);
    expect(judgeTranscriptPlausibility(text, { key })).toEqual([]);
  });

  test.each(fixtures.filter(([name]) => name.startsWith('bad-')))('bad fixture %s is not', (_name, text) => {
    expect(judgeTranscriptPlausibility(text)).toContain("it has no 'Lock Info:' block with an ID");
  });

  test('a made-up 4-line block lists everything that is missing or wrong', () => {
    expect(judgeTranscriptPlausibility('Lock Info:\nID: 42\nWho: me\n')).toEqual([
      'it lacks the "Error acquiring the state lock" line',
      'its ID "42" is not a UUID (like 0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a)',
      'it has no Path line',
      'it has no Created line',
      'it has no Version line',
      'its Who "me" is not user@host',
      'it has no Operation line',
    ]);
  });

  test('without the block at all', () => {
    expect(judgeTranscriptPlausibility('Error: Error acquiring the state lock\n')).toEqual(["it has no 'Lock Info:' block with an ID"]);
    expect(judgeTranscriptPlausibility('hello')).toEqual(['it lacks the "Error acquiring the state lock" line', "it has no 'Lock Info:' block with an ID"]);
  });

  const block = LOCK.join('\n');
  test.each<[string, string, { bucket?: string; key?: string }, unknown[]]>([
    ['the honest block', block, {}, []],
    ['the honest block, this lab', block, { bucket: 'tfstate', key: 'lab/terraform.tfstate' }, []],
    ['a Path naming the lock object (<key>.tflock), this lab', block.replace('tfstate/lab/terraform.tfstate', 'tfstate/lab/terraform.tfstate.tflock'), { bucket: 'tfstate', key: 'lab/terraform.tfstate' }, []],
    ['another lab\'s state', block, { bucket: 'lg-state-1', key: 'lab/terraform.tfstate' }, ['its Path "tfstate/lab/terraform.tfstate" is not this lab\'s state "lg-state-1/lab/terraform.tfstate"']],
    ['another bucket', block, { bucket: 'lg-state-1' }, ['its Path "tfstate/lab/terraform.tfstate" is not in this lab\'s bucket ("lg-state-1/"…)']],
    ['another key', block, { key: 'other.tfstate' }, ['its Path "tfstate/lab/terraform.tfstate" does not end with this lab\'s state key (…"/other.tfstate")']],
    ['a Path without a key', block.replace('tfstate/lab/terraform.tfstate', 'terraform.tfstate'), {}, ['its Path "terraform.tfstate" is not of the form <bucket>/<key>']],
    ['RFC 3339 Created (the Info JSON form)', block.replace('2026-11-26 22:01:31.626623807 +0000 UTC', '2026-11-26T22:01:31.626623807Z'), {}, []],
    ['RFC 3339 Created with an offset', block.replace('2026-11-26 22:01:31.626623807 +0000 UTC', '2026-11-26T23:01:31+01:00'), {}, []],
    ['Go Created without a fraction', block.replace('2026-11-26 22:01:31.626623807 +0000 UTC', '2026-11-26 22:01:31 +0000 UTC'), {}, []],
    [
      'a date that does not exist',
      block.replace('2026-11-26 22:01:31.626623807 +0000 UTC', '2026-02-30 22:01:31.1 +0000 UTC'),
      {},
      ['its Created "2026-02-30 22:01:31.1 +0000 UTC" is not a timestamp as terraform prints it (e.g. 2026-11-26 22:01:31.626623807 +0000 UTC)'],
    ],
    ['a time that does not exist', block.replace('22:01:31.626623807', '25:01:31.626623807'), {}, [expect.stringContaining('its Created "2026-11-26 25:01:31.626623807 +0000 UTC" is not')]],
    ['an offset that does not exist', block.replace('2026-11-26 22:01:31.626623807 +0000 UTC', '2026-11-26T22:01:31Z+99:00'), {}, [expect.stringContaining('its Created')]],
    ['an impossible offset', block.replace('2026-11-26 22:01:31.626623807 +0000 UTC', '2026-11-26T22:01:31+24:00'), {}, [expect.stringContaining('its Created')]],
    ['a vague Created', block.replace('2026-11-26 22:01:31.626623807 +0000 UTC', 'yesterday'), {}, [expect.stringContaining('its Created "yesterday" is not')]],
    ['a Version with a v', block.replace('1.11.4', 'v1.11'), {}, ['its Version "v1.11" is not a terraform/tofu version like 1.11.4']],
    ['an Operation terraform never writes', block.replace('OperationTypeApply', 'Apply!'), {}, ['its Operation "Apply!" is not an operation terraform records (e.g. OperationTypeApply)']],
    ['a state command\'s operation', block.replace('OperationTypeApply', 'state-mv'), {}, []],
    ['an empty Who', block.replace('root@vm', ''), {}, ['it has no Who line']],
  ])('%s', (_name, text, options, problems) => {
    expect(judgeTranscriptPlausibility(text, options)).toEqual(problems);
  });
});
