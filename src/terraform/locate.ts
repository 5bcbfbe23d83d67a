import { homedir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { LockgraderError } from '../errors.ts';
import { findOnPath, isExecutable } from '../util/find-on-path.ts';

export type TerraformFlavour = 'terraform' | 'tofu';

export interface TerraformBinary {
  /** Absolute path of the binary. */
  path: string;
  flavour: TerraformFlavour;
  version: string;
  /** Where it was found: the env variable, PATH, or the OpenTofu build cache. */
  source: 'LOCKGRADER_TERRAFORM' | 'PATH' | 'cache';
}

/** The OpenTofu release scripts/build-opentofu.sh builds when nothing else is found. */
export const PINNED_TOFU_VERSION = '1.11.5';

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.LOCKGRADER_CACHE_DIR ?? path.join(env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'lockgrader');
}

export function cachedTofuPath(env: NodeJS.ProcessEnv = process.env): string {
  const version = env.LOCKGRADER_TOFU_VERSION ?? PINNED_TOFU_VERSION;
  return path.join(cacheDir(env), 'opentofu', `v${version}`, 'tofu');
}

// Reads flavour and version from `version -json` (both tools print
// {"terraform_version": "..."}; OpenTofu says so in the platform text).
export async function describeBinary(binaryPath: string): Promise<{ flavour: TerraformFlavour; version: string }> {
  const result = await execa(binaryPath, ['version', '-json'], {
    reject: false,
    timeout: 30_000,
    env: { CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: '/dev/null' },
  });
  if (result.exitCode !== 0) {
    throw new LockgraderError('TERRAFORM_NOT_FOUND', `${binaryPath} did not answer 'version -json' (exit ${result.exitCode})`, {
      path: binaryPath,
      stderr: result.stderr.slice(0, 2000),
    });
  }
  const parsed = JSON.parse(result.stdout) as { terraform_version?: string };
  const version = parsed.terraform_version ?? 'unknown';
  const plain = await execa(binaryPath, ['version'], { reject: false, timeout: 30_000, env: { CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: '/dev/null' } });
  const flavour: TerraformFlavour = /OpenTofu/i.test(plain.stdout) ? 'tofu' : 'terraform';
  return { flavour, version };
}

// Finds the terraform binary, in this order: LOCKGRADER_TERRAFORM (a path),
// `terraform` on PATH, `tofu` on PATH, the cached OpenTofu build.
export async function locateTerraform(env: NodeJS.ProcessEnv = process.env): Promise<TerraformBinary> {
  const candidates: Array<{ path: string | undefined; source: TerraformBinary['source'] }> = [];
  if (env.LOCKGRADER_TERRAFORM) {
    const explicit = path.resolve(env.LOCKGRADER_TERRAFORM);
    if (!(await isExecutable(explicit))) {
      throw new LockgraderError('TERRAFORM_NOT_FOUND', `LOCKGRADER_TERRAFORM=${explicit} is not an executable file`, { path: explicit });
    }
    candidates.push({ path: explicit, source: 'LOCKGRADER_TERRAFORM' });
  } else {
    candidates.push({ path: await findOnPath('terraform', env.PATH ?? ''), source: 'PATH' });
    candidates.push({ path: await findOnPath('tofu', env.PATH ?? ''), source: 'PATH' });
    const cached = cachedTofuPath(env);
    candidates.push({ path: (await isExecutable(cached)) ? cached : undefined, source: 'cache' });
  }
  const found = candidates.find((c) => c.path !== undefined);
  if (!found?.path) {
    throw new LockgraderError(
      'TERRAFORM_NOT_FOUND',
      'no terraform or tofu binary found. Provide one of: LOCKGRADER_TERRAFORM=/path/to/binary; `terraform` or `tofu` on PATH; ' +
        `or build the pinned OpenTofu with scripts/build-opentofu.sh (cached at ${cachedTofuPath(env)}); ./dev does this for you.`,
      { searched: ['LOCKGRADER_TERRAFORM', 'PATH:terraform', 'PATH:tofu', cachedTofuPath(env)] },
    );
  }
  const described = await describeBinary(found.path);
  return { path: found.path, source: found.source, ...described };
}
