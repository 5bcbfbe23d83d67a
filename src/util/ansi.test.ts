import { expect, test } from '@jest/globals';
import { stripAnsi } from './ansi.ts';

test('strips colour codes and keeps the text', () => {
  expect(stripAnsi('\x1b[31m│\x1b[0m \x1b[0mOpenTofu acquires')).toBe('│ OpenTofu acquires');
  expect(stripAnsi('plain')).toBe('plain');
});
