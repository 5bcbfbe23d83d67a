import { readdir, realpath } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { cachedProbe } from '../util/probe-cache.ts';
import { LockgraderError } from '../errors.ts';
import { findOnPath, isExecutable } from '../util/find-on-path.ts';

export type TerraformFlavour = 'terraform' | 'tofu';

export interface TerraformBinary {
  /** Absolute path of the binary. */
  path: string;
  flavour: TerraformFlavour;
  version: string;
  /** Where it was found: verify's --terraform flag, the env variable, PATH, or the OpenTofu build cache. */
  source: '--terraform' | 'LOCKGRADER_TERRAFORM' | 'PATH' | 'cache';
}

/** The OpenTofu release scripts/build-opentofu.sh builds when nothing else is found. */
export const PINNED_TOFU_VERSION = '1.11.5';
/**
 * The older OpenTofu release of the binary matrix (test/terraform/binary-matrix.test.ts;
 * .ci/run builds it with scripts/build-opentofu.sh 1.6.3): the last 1.6 release, the oldest
 * line whose S3 backend takes the lab's settings; it has no use_lockfile.
 */
export const OLDER_TOFU_VERSION = '1.6.3';

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.LOCKGRADER_CACHE_DIR ?? path.join(env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'lockgrader');
}

export function cachedTofuPath(env: NodeJS.ProcessEnv = process.env): string {
  const version = env.LOCKGRADER_TOFU_VERSION ?? PINNED_TOFU_VERSION;
  return path.join(cacheDir(env), 'opentofu', `v${version}`, 'tofu');
}

// Reads flavour and version from `version -json` (both tools print
// {"terraform_version": "..."}; OpenTofu says so in the platform text).
export async function describeBinary(binaryPath: string, env: NodeJS.ProcessEnv = process.env): Promise<{ flavour: TerraformFlavour; version: string }> {
  return cachedProbe(probeCacheFile(env), 'terraform version', binaryPath, () => probeBinary(binaryPath), () => true);
}

async function probeBinary(binaryPath: string): Promise<{ flavour: TerraformFlavour; version: string }> {
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

/** The file of probe answers kept between runs (util/probe-cache.ts): versions of terraform binaries and AWS CLIs. */
export function probeCacheFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheDir(env), 'probe-answers.json');
}

// Finds the terraform binary, in this order: a path given on the command line
// (verify --terraform), LOCKGRADER_TERRAFORM (a path), `terraform` on PATH,
// `tofu` on PATH, the cached OpenTofu build.
export async function locateTerraform(env: NodeJS.ProcessEnv = process.env, flagPath?: string): Promise<TerraformBinary> {
  const candidates: Array<{ path: string | undefined; source: TerraformBinary['source'] }> = [];
  if (flagPath !== undefined) {
    const explicit = path.resolve(flagPath);
    if (!(await isExecutable(explicit))) {
      throw new LockgraderError('TERRAFORM_NOT_FOUND', `--terraform ${explicit} is not an executable file`, { path: explicit });
    }
    candidates.push({ path: explicit, source: '--terraform' });
  } else if (env.LOCKGRADER_TERRAFORM) {
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

/** Every cached OpenTofu build (scripts/build-opentofu.sh VERSION), newest version first. */
export async function cachedTofuBuilds(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const root = path.join(cacheDir(env), 'opentofu');
  const versions = await readdir(root).catch(() => [] as string[]);
  const numeric = (name: string) => name.replace(/^v/, '').split(/[.-]/).map((part) => Number.parseInt(part, 10) || 0);
  versions.sort((a, b) => {
    const [x, y] = [numeric(a), numeric(b)];
    for (let i = 0; i < Math.max(x.length, y.length); i += 1) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (y[i] ?? 0) - (x[i] ?? 0);
    return 0;
  });
  const found: string[] = [];
  for (const version of versions) {
    const binary = path.join(root, version, 'tofu');
    if (await isExecutable(binary)) found.push(binary);
  }
  return found;
}

/** A binary found by findTerraformBinaries: described, or the error it gave. */
export type FoundBinary = TerraformBinary | { path: string; source: TerraformBinary['source']; error: string };

// Every terraform/tofu this machine offers (doctor lists them): LOCKGRADER_TERRAFORM,
// `terraform` and `tofu` on PATH, and every cached OpenTofu build; the same file
// (by real path) once, under the first place it was found.
export async function findTerraformBinaries(env: NodeJS.ProcessEnv = process.env): Promise<FoundBinary[]> {
  const candidates: Array<{ path: string | undefined; source: TerraformBinary['source'] }> = [
    { path: env.LOCKGRADER_TERRAFORM ? path.resolve(env.LOCKGRADER_TERRAFORM) : undefined, source: 'LOCKGRADER_TERRAFORM' },
    { path: await findOnPath('terraform', env.PATH ?? ''), source: 'PATH' },
    { path: await findOnPath('tofu', env.PATH ?? ''), source: 'PATH' },
    ...(await cachedTofuBuilds(env)).map((binary) => ({ path: binary, source: 'cache' as const })),
  ];
  const seen = new Set<string>();
  const found: FoundBinary[] = [];
  for (const candidate of candidates) {
    if (candidate.path === undefined || !(await isExecutable(candidate.path))) continue;
    const real = await realpath(candidate.path).catch(() => candidate.path as string);
    if (seen.has(real)) continue;
    seen.add(real);
    try {
      found.push({ path: candidate.path, source: candidate.source, ...(await describeBinary(candidate.path)) });
    } catch (error) {
      found.push({ path: candidate.path, source: candidate.source, error: (error as Error).message });
    }
  }
  return found;
}
