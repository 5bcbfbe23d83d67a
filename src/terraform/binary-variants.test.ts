// Which lab variants a terraform/tofu binary serves, by flavour and version
// (lock-protocol.md §7): the lab's backend settings need Terraform >= 1.6.3 /
// OpenTofu >= 1.6.0, use_lockfile needs 1.10.0.
import { describe, expect, test } from '@jest/globals';
import { LockgraderError } from '../errors.ts';
import { assertBinaryServesVariant, binaryVariants } from './binary-variants.ts';

describe('binaryVariants', () => {
  test.each([
    ['tofu', '1.11.5', ['dynamodb', 'lockfile', 'both']],
    ['terraform', '1.11.4', ['dynamodb', 'lockfile', 'both']],
    ['tofu', '1.10.0', ['dynamodb', 'lockfile', 'both']],
    ['tofu', '1.9.4', ['dynamodb']],
    ['tofu', '1.6.3', ['dynamodb']],
    ['tofu', '1.6.0', ['dynamodb']],
    ['terraform', '1.6.3', ['dynamodb']],
    ['terraform', '1.6.2', []],
    ['terraform', '1.5.7', []],
    ['tofu', '1.12.0-beta1', ['dynamodb', 'lockfile', 'both']],
    ['tofu', 'unknown', ['dynamodb', 'lockfile', 'both']],
  ] as const)('%s %s serves %j', (flavour, version, variants) => {
    expect(binaryVariants({ flavour, version }).variants).toEqual(variants);
  });

  test('the reason names the missing feature and the version that has it', () => {
    expect(binaryVariants({ flavour: 'tofu', version: '1.6.3' }).reason).toBe('OpenTofu 1.6.3 has no use_lockfile (S3-native locking, 1.10.0 and later), which lockfile and both need');
    expect(binaryVariants({ flavour: 'terraform', version: '1.5.7' }).reason).toMatch(/^Terraform 1\.5\.7 is older than Terraform 1\.6\.3, whose S3 backend first takes the lab's settings/);
  });
});

describe('assertBinaryServesVariant', () => {
  const old = { path: '/cache/opentofu/v1.6.3/tofu', flavour: 'tofu', version: '1.6.3' } as const;

  test('an older binary grades the dynamodb variant', () => {
    expect(() => assertBinaryServesVariant(old, 'dynamodb')).not.toThrow();
  });

  test.each(['lockfile', 'both'] as const)('%s on a binary without use_lockfile: a usage error naming the binary and why', (variant) => {
    let thrown: unknown;
    try {
      assertBinaryServesVariant(old, variant);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(LockgraderError);
    expect(thrown).toMatchObject({ code: 'USAGE', fields: { value: variant, version: '1.6.3', variants: ['dynamodb'] } });
    expect((thrown as Error).message).toMatch(new RegExp(`^--lab-variant ${variant} cannot be graded with /cache/opentofu/v1\\.6\\.3/tofu: OpenTofu 1\\.6\\.3 has no use_lockfile`));
  });
});
