// Which lab variants a terraform/tofu binary can serve, from its flavour and
// version (lock-protocol.md §7): the lab's backend settings
// (src/terraform/backend-config.ts: use_path_style, skip_requesting_account_id,
// skip_s3_checksum, endpoints from AWS_ENDPOINT_URL_S3/_DYNAMODB) need
// Terraform >= 1.6.3 or OpenTofu >= 1.6.0; use_lockfile (the lockfile and
// both variants) needs 1.10.0 in both. A version that cannot be read (a dev
// build) is assumed to serve everything, and says so.
import { LockgraderError } from '../errors.ts';
import { hasLockObject, LAB_VARIANTS, type LabVariant } from '../backend/lab-variant.ts';
import type { TerraformFlavour } from './locate.ts';

type Version = [number, number, number];

const NAMES: Record<TerraformFlavour, string> = { terraform: 'Terraform', tofu: 'OpenTofu' };

/** The oldest release whose S3 backend takes the lab's settings, per flavour. */
const BACKEND_SETTINGS_SINCE: Record<TerraformFlavour, Version> = { terraform: [1, 6, 3], tofu: [1, 6, 0] };
/** use_lockfile (S3-native locking): 1.10.0 in both. */
const USE_LOCKFILE_SINCE: Version = [1, 10, 0];

export interface BinaryVariants {
  variants: LabVariant[];
  /** Why these (the version rule that decided). */
  reason: string;
}

function parseVersion(version: string): Version | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

function atLeast(version: Version, floor: Version): boolean {
  for (let i = 0; i < 3; i += 1) if (version[i] !== floor[i]) return (version[i] ?? 0) > (floor[i] ?? 0);
  return true;
}

const show = (version: Version): string => version.join('.');

export function binaryVariants(binary: { flavour: TerraformFlavour; version: string }): BinaryVariants {
  const name = `${NAMES[binary.flavour]} ${binary.version}`;
  const version = parseVersion(binary.version);
  if (version === undefined) return { variants: [...LAB_VARIANTS], reason: `${name}: version not readable, assumed to serve every variant` };
  const settingsFloor = BACKEND_SETTINGS_SINCE[binary.flavour];
  if (!atLeast(version, settingsFloor)) {
    return {
      variants: [],
      reason: `${name} is older than ${NAMES[binary.flavour]} ${show(settingsFloor)}, whose S3 backend first takes the lab's settings (use_path_style, skip_requesting_account_id, skip_s3_checksum, AWS_ENDPOINT_URL_S3)`,
    };
  }
  if (!atLeast(version, USE_LOCKFILE_SINCE)) {
    return {
      variants: LAB_VARIANTS.filter((variant) => !hasLockObject(variant)),
      reason: `${name} has no use_lockfile (S3-native locking, ${show(USE_LOCKFILE_SINCE)} and later), which lockfile and both need`,
    };
  }
  return { variants: [...LAB_VARIANTS], reason: `${name} has use_lockfile (${show(USE_LOCKFILE_SINCE)} and later)` };
}

/** A usage error before anything runs when the binary cannot serve the lab variant. */
export function assertBinaryServesVariant(binary: { path: string; flavour: TerraformFlavour; version: string }, variant: LabVariant): void {
  const served = binaryVariants(binary);
  if (served.variants.includes(variant)) return;
  throw new LockgraderError(
    'USAGE',
    `--lab-variant ${variant} cannot be graded with ${binary.path}: ${served.reason}. Choose another binary (verify --terraform PATH, or LOCKGRADER_TERRAFORM); lockgrader doctor lists the binaries here and the variants each serves.`,
    { flag: '--lab-variant', value: variant, terraform: binary.path, flavour: binary.flavour, version: binary.version, variants: served.variants },
  );
}
