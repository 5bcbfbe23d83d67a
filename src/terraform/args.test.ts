import { describe, expect, test } from '@jest/globals';
import { applyArgs, forceUnlockArgs, planArgs } from './args.ts';

describe('argument building', () => {
  test.each([
    [planArgs(), ['plan', '-input=false', '-no-color']],
    [planArgs({ detailedExitCode: true }), ['plan', '-input=false', '-no-color', '-detailed-exitcode']],
    [planArgs({ lockTimeout: '0s' }), ['plan', '-input=false', '-no-color', '-lock-timeout=0s']],
    [applyArgs({ vars: { release: 'v2' } }), ['apply', '-input=false', '-no-color', '-auto-approve', '-var', 'release=v2']],
    [applyArgs({ lock: false }), ['apply', '-input=false', '-no-color', '-auto-approve', '-lock=false']],
    [forceUnlockArgs('abc'), ['force-unlock', '-force', '-no-color', 'abc']],
  ])('%j', (got, want) => {
    expect(got).toEqual(want);
  });
});
