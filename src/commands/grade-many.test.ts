import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { batchExitCode, formatOutcome, formatSummary, parseConcurrency, parseListText, parseScriptTimeout, resultNames, summarize, type GradingOutcome } from './grade-many.ts';

function outcome(status: GradingOutcome['status'], extra: Partial<GradingOutcome> = {}): GradingOutcome {
  return { name: 'sub', dir: '/x/sub', status, seconds: 8.25, ...extra };
}

describe('grade-many: submissions', () => {
  test('a --list file: one folder per line, blanks, comments, CRLF and a BOM ignored', () => {
    expect(parseListText('\uFEFFsubs/a\r\n\n# a comment\n  subs/b  \n#subs/c\n')).toEqual(['subs/a', 'subs/b']);
    expect(parseListText('')).toEqual([]);
  });

  test('results are named after the folder, made unique and file-safe', () => {
    expect(resultNames(['/a/alice', '/b/bob/', '/c/alice', '/d/alice', 'rel/alice-2'])).toEqual(['alice', 'bob', 'alice-2', 'alice-3', 'alice-2-2']);
    expect(resultNames(['/s/ana maría', '/s/..hidden', '/'])).toEqual(['ana_mar_a', 'hidden', 'submission']);
    expect(resultNames([path.join('x', 'y', 'z')])).toEqual(['z']);
  });
});

describe('grade-many: options', () => {
  test('--concurrency is a whole number >= 1, else the machine parallelism', () => {
    expect(parseConcurrency(undefined, 4)).toBe(4);
    expect(parseConcurrency(undefined, 0)).toBe(1);
    expect(parseConcurrency('2', 4)).toBe(2);
    for (const bad of ['0', '-1', '1.5', 'two', '']) expect(() => parseConcurrency(bad, 4)).toThrow(/--concurrency/);
  });

  test('--script-timeout is seconds >= 0', () => {
    expect(parseScriptTimeout(undefined)).toBeUndefined();
    expect(parseScriptTimeout('30')).toBe(30);
    expect(() => parseScriptTimeout('-1')).toThrow(/--script-timeout/);
    expect(() => parseScriptTimeout('soon')).toThrow(/--script-timeout/);
  });
});

describe('grade-many: report and exit status', () => {
  test('one line per submission: status, score, seconds, name, why', () => {
    expect(formatOutcome(outcome('graded', { score: 65, max_score: 65 }))).toBe('graded    65/65    8.3 s  sub');
    expect(formatOutcome(outcome('error', { score: 0, max_score: 20, message: 'replay failed\ndetails' }))).toBe('error      0/20    8.3 s  sub  — replay failed');
    expect(formatOutcome(outcome('missing', { seconds: 0, message: '/x/sub does not exist; skipped' }))).toBe('missing       -        -  sub  — /x/sub does not exist; skipped');
  });

  test('summary: counts and gradings per minute (skipped folders are not gradings)', () => {
    const summary = summarize([outcome('graded'), outcome('graded'), outcome('error'), outcome('missing')], 30_000);
    expect(summary).toEqual({ submissions: 4, graded: 2, errors: 1, missing: 1, wallSeconds: 30, gradingsPerMinute: 6 });
    expect(summarize([], 0).gradingsPerMinute).toBe(0);
    expect(formatSummary(summary, 2, 'reports/grade-many')).toBe(
      'grade-many: 4 submissions — 2 graded, 1 error, 1 missing — 30.0 s wall at concurrency 2: 6.0 gradings/minute; results in reports/grade-many',
    );
  });

  test('exit 0 all graded; 3 any error; 2 any missing, which wins over 3', () => {
    expect(batchExitCode([outcome('graded'), outcome('graded')])).toBe(0);
    expect(batchExitCode([outcome('graded'), outcome('error')])).toBe(3);
    expect(batchExitCode([outcome('missing'), outcome('graded')])).toBe(2);
    expect(batchExitCode([outcome('error'), outcome('missing')])).toBe(2);
  });
});
