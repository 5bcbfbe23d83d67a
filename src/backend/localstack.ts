// The localstack backend: LocalStack's S3 in a container started through
// testcontainers, and DynamoDB from dynalite in this process (LocalStack's
// DynamoDB is DynamoDB Local, which lockgrader does not use: see
// LOCALSTACK_DYNAMODB_REASON). The container runs on the engine's bridge network
// with a mapped port, or on the host network with a port chosen here.
import { LockgraderError } from '../errors.ts';
import { connectEngine, inspectImage, removeOrphanedContainers, type ContainerEngine } from './container-engine.ts';
import { startDynalite } from './embedded.ts';
import { chooseNetwork, parseLocalstackNetwork, startLocalstackContainer, type LocalstackNetwork, type LocalstackNetworkRequest } from './localstack-container.ts';
import { authTokenProblem, LOCAL_BUILD_IMAGE, LOCALSTACK_DYNAMODB_REASON, localstackImage } from './localstack-image.ts';
import type { BackendAvailability, StartedBackend } from './types.ts';

export { localstackImage, pinnedLocalstackImage } from './localstack-image.ts';

export interface LocalstackOptions {
  /** host, bridge or auto (default: LOCKGRADER_LOCALSTACK_NETWORK, else auto). */
  network?: LocalstackNetworkRequest;
  env?: NodeJS.ProcessEnv;
}

/** Whether the backend can start now, on which engine, network and image (what doctor shows). */
export interface LocalstackAvailability extends BackendAvailability {
  image: string;
  engine?: string;
  network?: LocalstackNetwork;
}

const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test', region: 'us-east-1' } as const;

function requestedNetwork(options: LocalstackOptions, env: NodeJS.ProcessEnv): LocalstackNetworkRequest {
  return options.network ?? parseLocalstackNetwork(env.LOCKGRADER_LOCALSTACK_NETWORK);
}

// The engine and network mode, or BACKEND_UNAVAILABLE saying why and what to do.
async function engineAndNetwork(image: string, options: LocalstackOptions, env: NodeJS.ProcessEnv): Promise<{ engine: ContainerEngine; network: LocalstackNetwork; why: string }> {
  const tokenProblem = authTokenProblem(image, env);
  if (tokenProblem) throw new LockgraderError('BACKEND_UNAVAILABLE', tokenProblem, { kind: 'localstack', image });
  const engine = await connectEngine(env);
  const choice = chooseNetwork(requestedNetwork(options, env), engine);
  if ('unavailable' in choice) throw new LockgraderError('BACKEND_UNAVAILABLE', `${engine.description}: ${choice.unavailable}`, { kind: 'localstack', image });
  return { engine, ...choice };
}

// Whether the localstack backend can run here right now, without pulling or
// starting anything: testcontainers, an engine, a network mode, the image on
// the engine, a token when the image needs one.
export async function localstackAvailability(options: LocalstackOptions = {}): Promise<LocalstackAvailability> {
  const env = options.env ?? process.env;
  const image = await localstackImage(env);
  let found;
  try {
    found = await engineAndNetwork(image, options, env);
  } catch (error) {
    return { kind: 'localstack', available: false, reason: (error as Error).message, image };
  }
  const { engine, network, why } = found;
  const where = { engine: engine.description, network };
  if (!(await inspectImage(engine, image)).present) {
    const hint = image === LOCAL_BUILD_IMAGE ? 'build it: scripts/localstack-image.sh' : `docker pull ${image} where Docker Hub is reachable; without a registry build ${LOCAL_BUILD_IMAGE} (scripts/localstack-image.sh) and set LOCKGRADER_LOCALSTACK_IMAGE=${LOCAL_BUILD_IMAGE}`;
    return { kind: 'localstack', available: false, reason: `image ${image} is not on the engine (${engine.description}): ${hint}`, image, ...where };
  }
  return {
    kind: 'localstack',
    available: true,
    reason: `${engine.description}, ${network} network (${why}), image ${image}: S3 from LocalStack, DynamoDB from dynalite in-process (${LOCALSTACK_DYNAMODB_REASON})`,
    image,
    ...where,
  };
}

// Starts LocalStack (S3) and dynalite (DynamoDB). A missing image is pulled by
// testcontainers; a container a killed grading left is removed first.
export async function startLocalstackBackend(options: LocalstackOptions = {}): Promise<StartedBackend> {
  const started = performance.now();
  const env = options.env ?? process.env;
  const image = await localstackImage(env);
  const { engine, network } = await engineAndNetwork(image, options, env);
  await removeOrphanedContainers(engine, 'localstack');
  const dynamodb = await startDynalite();
  let localstack;
  try {
    localstack = await startLocalstackContainer(engine, { image, network, env });
  } catch (error) {
    await dynamodb.stop();
    throw error;
  }
  const running = localstack;
  let stopped = false;
  return {
    kind: 'localstack',
    endpoints: { s3: running.url, dynamodb: dynamodb.endpoint },
    credentials: { ...CREDENTIALS },
    description: `LocalStack ${running.version} S3 (${image}, ${network} network, testcontainers) + ${dynamodb.description} DynamoDB (in-process)`,
    startMs: performance.now() - started,
    // LocalStack's S3 refuses a second conditional PutObject with 412 (the contract suite measures it).
    capabilities: { s3ConditionalWrites: true },
    services: {
      s3: { servedBy: `LocalStack ${running.version} (${image}, ${network} network)` },
      dynamodb: { servedBy: `${dynamodb.description} (in-process)`, substitutedBecause: LOCALSTACK_DYNAMODB_REASON },
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.allSettled([running.stop(), dynamodb.stop()]);
    },
  };
}
