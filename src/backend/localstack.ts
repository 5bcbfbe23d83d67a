import { readFile } from 'node:fs/promises';
import { LockgraderError } from '../errors.ts';
import { repoPath } from '../paths.ts';
import type { BackendAvailability, StartedBackend } from './types.ts';

// The pinned image is the FROM line of containers/localstack/Dockerfile, so
// update bots that bump Dockerfiles bump it too.
export async function pinnedLocalstackImage(): Promise<string> {
  const dockerfile = await readFile(repoPath('containers/localstack/Dockerfile'), 'utf8');
  const match = /^FROM\s+(\S+)/m.exec(dockerfile);
  if (!match?.[1]) throw new LockgraderError('INTERNAL', 'containers/localstack/Dockerfile has no FROM line');
  return match[1];
}

export async function localstackImage(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return env.LOCKGRADER_LOCALSTACK_IMAGE ?? (await pinnedLocalstackImage());
}

// Asks testcontainers for a container runtime; it throws a descriptive error when none is found.
export async function localstackAvailability(): Promise<BackendAvailability> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    const client = await getContainerRuntimeClient();
    return { kind: 'localstack', available: true, reason: `container runtime found (${client.info.containerRuntime.host})` };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { kind: 'localstack', available: false, reason: `no container runtime for testcontainers: ${message}` };
  }
}

// Starts LocalStack through @testcontainers/localstack. Images after 4.14.0
// need LOCALSTACK_AUTH_TOKEN, which is passed through when set.
export async function startLocalstackBackend(env: NodeJS.ProcessEnv = process.env): Promise<StartedBackend> {
  const started = performance.now();
  const image = await localstackImage(env);
  const availability = await localstackAvailability();
  if (!availability.available) {
    throw new LockgraderError('BACKEND_UNAVAILABLE', `the localstack backend cannot run here: ${availability.reason}`, { kind: 'localstack', image });
  }
  const { LocalstackContainer } = await import('@testcontainers/localstack');
  let container = new LocalstackContainer(image).withEnvironment({ SERVICES: 's3,dynamodb' });
  if (env.LOCALSTACK_AUTH_TOKEN) container = container.withEnvironment({ LOCALSTACK_AUTH_TOKEN: env.LOCALSTACK_AUTH_TOKEN });
  try {
    const running = await container.start();
    const uri = running.getConnectionUri();
    return {
      kind: 'localstack',
      endpoints: { s3: uri, dynamodb: uri, single: uri },
      credentials: { accessKeyId: 'test', secretAccessKey: 'test', region: 'us-east-1' },
      description: `LocalStack ${image} (testcontainers)`,
      startMs: performance.now() - started,
      capabilities: { s3ConditionalWrites: true },
      async stop() {
        await running.stop();
      },
    };
  } catch (error) {
    throw new LockgraderError('BACKEND_FAILED', `LocalStack (${image}) did not start: ${String(error)}`, { kind: 'localstack', image }, { cause: error });
  }
}
