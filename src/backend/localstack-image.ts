// Which LocalStack image the localstack backend runs, and what an image needs
// or says about itself (pure rules, plus the pinned FROM line).
import { readFile } from 'node:fs/promises';
import { LockgraderError } from '../errors.ts';
import { repoPath } from '../paths.ts';

/** The image scripts/localstack-image.sh builds without a registry. */
export const LOCAL_BUILD_IMAGE = 'lockgrader/localstack:2026.3.0';

/** The label that image carries about LocalStack's DynamoDB. */
export const DYNAMODB_LABEL = 'dev.lockgrader.localstack.dynamodb';

// LocalStack's DynamoDB is DynamoDB Local, which LocalStack downloads at run time:
// not in any image lockgrader builds, unreachable on machines without internet,
// and under a licence that is not open source. lockgrader never uses it.
export const LOCALSTACK_DYNAMODB_REASON =
  "LocalStack's DynamoDB runs DynamoDB Local, which LocalStack downloads at run time (not reachable everywhere) and whose licence is not open source; lockgrader does not use it";

// The pinned image is the FROM line of containers/localstack/Dockerfile, so
// update bots that bump Dockerfiles bump it too.
export async function pinnedLocalstackImage(): Promise<string> {
  const dockerfile = await readFile(repoPath('containers/localstack/Dockerfile'), 'utf8');
  const match = /^FROM\s+(\S+)/m.exec(dockerfile);
  if (!match?.[1]) throw new LockgraderError('INTERNAL', 'containers/localstack/Dockerfile has no FROM line');
  return match[1];
}

export async function localstackImage(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return env.LOCKGRADER_LOCALSTACK_IMAGE || (await pinnedLocalstackImage());
}

function versionAfter(version: string, limit: readonly number[]): boolean {
  const parts = version.split('.').map(Number);
  if (parts.some((part) => !Number.isInteger(part))) return true;
  for (let index = 0; index < limit.length; index += 1) {
    const part = parts[index] ?? 0;
    if (part !== limit[index]) return part > (limit[index] ?? 0);
  }
  return false;
}

// Why this image cannot start here, when it needs LOCALSTACK_AUTH_TOKEN and none
// is set: Docker Hub's localstack/localstack after 4.14.0 (and latest, stable,
// the date-versioned tags) and every localstack-pro image need one.
export function authTokenProblem(image: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.LOCALSTACK_AUTH_TOKEN) return undefined;
  const withoutDigest = image.split('@')[0] ?? image;
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  const repository = (colon > slash ? withoutDigest.slice(0, colon) : withoutDigest).replace(/^(docker\.io\/|index\.docker\.io\/)/, '');
  const tag = colon > slash ? withoutDigest.slice(colon + 1) : 'latest';
  const needsToken = repository === 'localstack/localstack-pro' || (repository === 'localstack/localstack' && versionAfter(tag, [4, 14, 0]));
  if (!needsToken) return undefined;
  return (
    `${image} needs LOCALSTACK_AUTH_TOKEN (LocalStack images after 4.14.0 do) and none is set: set it, ` +
    `or use localstack/localstack:4.14.0 (the pinned default), or build ${LOCAL_BUILD_IMAGE} without a registry (scripts/localstack-image.sh)`
  );
}
