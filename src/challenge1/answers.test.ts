import { describe, expect, test } from '@jest/globals';
import { parseLockAnswer } from './answers.ts';

describe('parseLockAnswer', () => {
  test('one object', () => {
    expect(parseLockAnswer(' {"lock_id": " a ", "who": "u@h", "operation": "OperationTypeApply"}\n', 'stdout')).toEqual({
      ok: true,
      answer: { lock_id: 'a', who: 'u@h', operation: 'OperationTypeApply' },
    });
  });
  test('log lines before the object', () => {
    const parsed = parseLockAnswer('looking up the lock...\n{"lock_id":"x"}\n', 'stdout');
    expect(parsed).toEqual({ ok: true, answer: { lock_id: 'x' } });
  });
  test('not JSON names what was expected', () => {
    const parsed = parseLockAnswer('ID: 1234', 'identify.sh stdout');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toContain('{"lock_id"');
  });
  test('empty', () => {
    expect(parseLockAnswer('  \n', 'answers.json').ok).toBe(false);
  });
  test('an array is not an answer', () => {
    expect(parseLockAnswer('[1,2]', 'answers.json').ok).toBe(false);
  });
});
