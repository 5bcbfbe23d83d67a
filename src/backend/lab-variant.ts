// The lab variants (contract, "Lab variants"): which locks terraform's S3
// backend takes. dynamodb: the lock item in a DynamoDB table (the seed's lab);
// lockfile: the S3 object <key>.tflock (use_lockfile = true), no table; both:
// the migration set-up, the object and the item. Check ids and points are the
// same for every variant; what each check reads follows it.
import { LockgraderError } from '../errors.ts';

export type LabVariant = 'dynamodb' | 'lockfile' | 'both';

export const LAB_VARIANTS: readonly LabVariant[] = ['dynamodb', 'lockfile', 'both'];
export const DEFAULT_LAB_VARIANT: LabVariant = 'dynamodb';

export function parseLabVariant(value: string | undefined): LabVariant {
  const variant = value ?? DEFAULT_LAB_VARIANT;
  if ((LAB_VARIANTS as readonly string[]).includes(variant)) return variant as LabVariant;
  throw new LockgraderError('USAGE', `--lab-variant ${variant}: use one of ${LAB_VARIANTS.join(', ')}`, { flag: '--lab-variant', value: variant });
}

/** A DynamoDB lock table exists (and with it the -md5 digest item). */
export function hasLockTable(variant: LabVariant): boolean {
  return variant !== 'lockfile';
}

/** terraform keeps the lock as the S3 object <key>.tflock (use_lockfile = true). */
export function hasLockObject(variant: LabVariant): boolean {
  return variant !== 'dynamodb';
}

/** The variants a backend can serve: the lockfile ones need S3 to honour If-None-Match: *. */
export function variantsServed(s3ConditionalWrites: boolean): LabVariant[] {
  return s3ConditionalWrites ? [...LAB_VARIANTS] : LAB_VARIANTS.filter((variant) => !hasLockObject(variant));
}
