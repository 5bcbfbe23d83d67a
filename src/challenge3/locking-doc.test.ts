import { describe, expect, test } from '@jest/globals';
import { judgeLockingDoc } from './locking-doc.ts';

describe('LOCKING.md heuristic', () => {
  test('a complete explanation passes', () => {
    const judged = judgeLockingDoc(
      'Use -lock=false only for read-only commands such as plan. If two applies run at the same time without the lock, one overwrites the other and the state can be corrupted.',
    );
    expect(judged).toEqual({ ok: true, found: expect.any(Array), missing: [] });
  });
  test('naming the flag alone is not enough', () => {
    const judged = judgeLockingDoc('We never use -lock=false.');
    expect(judged.ok).toBe(false);
    expect(judged.missing).toHaveLength(2);
    expect(judged.missing[0]).toContain('read-only');
    expect(judged.missing[1]).toContain('what goes wrong');
  });
  test('saying it is read-only but not why misses one group', () => {
    const judged = judgeLockingDoc('-lock=false is only for read-only commands like plan.');
    expect(judged.missing).toHaveLength(1);
    expect(judged.missing[0]).toContain('what goes wrong');
  });
  test('an empty file misses all three', () => {
    expect(judgeLockingDoc('').missing).toHaveLength(3);
  });
  test('without the flag written out, it fails', () => {
    expect(judgeLockingDoc('Disabling the lock is for read-only commands; concurrent writes corrupt state.').missing[0]).toContain('-lock=false');
  });
});
