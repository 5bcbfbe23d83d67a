// The container engine the localstack backend runs on, reached through
// testcontainers (an optional dependency, imported only here and only when the
// localstack backend is asked for): finding it, which networks it has, what an
// image holds, and removing the containers a grading left behind.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { LockgraderError } from '../errors.ts';

export type Testcontainers = typeof import('testcontainers');
type RuntimeClient = Awaited<ReturnType<Testcontainers['getContainerRuntimeClient']>>;

/** Labels on every container lockgrader starts: what it is, and which process owns it. */
export const CONTAINER_LABELS = {
  backend: 'dev.lockgrader.backend',
  ownerPid: 'dev.lockgrader.owner-pid',
  ownerHost: 'dev.lockgrader.owner-host',
} as const;

/** How a synchronous exit clean-up reaches the engine's API. */
export interface EngineConnection {
  socketPath?: string;
  host?: string;
  port?: number;
}

export interface ContainerEngine {
  testcontainers: Testcontainers;
  client: RuntimeClient;
  /** e.g. "Docker 20.10.24+dfsg1 at /run/lockgrader-docker/0/docker.sock". */
  description: string;
  /** The engine's network names ("host", "none", and "bridge" unless started with --bridge=none). */
  networks: string[];
  /** Whether the engine runs on this machine (its host network is this machine's loopback). */
  local: boolean;
  connection: EngineConnection;
}

export interface ImageInfo {
  present: boolean;
  labels: Record<string, string>;
}

// Loads testcontainers, or says how to get it.
export async function loadTestcontainers(): Promise<Testcontainers> {
  try {
    return await import('testcontainers');
  } catch (error) {
    throw new LockgraderError('BACKEND_UNAVAILABLE', `testcontainers (an optional dependency of lockgrader) is not installed: ${(error as Error).message}. Install it with npm install (optional dependencies included).`, {
      kind: 'localstack',
    });
  }
}

// Finds the engine the way testcontainers does (DOCKER_HOST, ~/.testcontainers.properties,
// the default socket). Ryuk, testcontainers' reaper, is off unless asked for: its image
// is pulled from Docker Hub, and lockgrader removes its own containers (stop, exit
// clean-up, orphan sweep). Inside a container (/.dockerenv) testcontainers takes the
// `bridge` network's gateway as the containers' host; an engine without a bridge
// (--bridge=none) has none, and its host-network containers answer on 127.0.0.1.
export async function connectEngine(env: NodeJS.ProcessEnv = process.env): Promise<ContainerEngine> {
  const testcontainers = await loadTestcontainers();
  env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  let client: RuntimeClient;
  try {
    client = await testcontainers.getContainerRuntimeClient();
  } catch (first) {
    if (env.TESTCONTAINERS_HOST_OVERRIDE !== undefined || !existsSync('/.dockerenv')) throw noEngine(first, env);
    env.TESTCONTAINERS_HOST_OVERRIDE = '127.0.0.1';
    try {
      client = await testcontainers.getContainerRuntimeClient();
    } catch {
      delete env.TESTCONTAINERS_HOST_OVERRIDE;
      throw noEngine(first, env);
    }
  }
  const dockerode = client.container.dockerode;
  const modem = dockerode.modem as { socketPath?: string; host?: string; port?: number | string };
  const connection: EngineConnection = modem.socketPath
    ? { socketPath: String(modem.socketPath) }
    : { host: modem.host, port: modem.port === undefined ? undefined : Number(modem.port) };
  const networks = (await dockerode.listNetworks()).map((network) => network.Name).sort();
  const local = connection.socketPath !== undefined || ['127.0.0.1', 'localhost', '::1'].includes(connection.host ?? '');
  const info = client.info.containerRuntime;
  return {
    testcontainers,
    client,
    description: `Docker ${info.serverVersion} at ${connection.socketPath ?? `${connection.host}:${connection.port}`}`,
    networks,
    local,
    connection,
  };
}

function noEngine(error: unknown, env: NodeJS.ProcessEnv): LockgraderError {
  const where = env.DOCKER_HOST ? `DOCKER_HOST=${env.DOCKER_HOST}` : 'DOCKER_HOST unset, /var/run/docker.sock';
  return new LockgraderError(
    'BACKEND_UNAVAILABLE',
    `no container engine answers (${where}: ${(error as Error).message}). Start Docker, or on a Debian machine without one (as root): ` +
      'scripts/docker-engine.sh install && eval "$(scripts/docker-engine.sh start)"',
    { kind: 'localstack' },
    { cause: error },
  );
}

// Whether the image is on the engine, and its labels (nothing is pulled).
export async function inspectImage(engine: ContainerEngine, image: string): Promise<ImageInfo> {
  try {
    const inspected = await engine.client.container.dockerode.getImage(image).inspect();
    return { present: true, labels: inspected.Config?.Labels ?? {} };
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return { present: false, labels: {} };
    throw error;
  }
}

/** The labels of a container this process starts. */
export function ownerLabels(backend: string): Record<string, string> {
  return { [CONTAINER_LABELS.backend]: backend, [CONTAINER_LABELS.ownerPid]: String(process.pid), [CONTAINER_LABELS.ownerHost]: hostname() };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// Removes lockgrader's containers whose owning process (on this machine) is gone:
// a grading killed before it could clean up. Returns how many were removed.
export async function removeOrphanedContainers(engine: ContainerEngine, backend: string): Promise<number> {
  const dockerode = engine.client.container.dockerode;
  const listed = await dockerode.listContainers({ all: true, filters: { label: [`${CONTAINER_LABELS.backend}=${backend}`] } });
  const orphans = listed.filter((container) => {
    const pid = Number(container.Labels[CONTAINER_LABELS.ownerPid]);
    return container.Labels[CONTAINER_LABELS.ownerHost] === hostname() && Number.isInteger(pid) && pid > 0 && !processAlive(pid);
  });
  await Promise.all(orphans.map((container) => dockerode.getContainer(container.Id).remove({ force: true, v: true }).catch(() => undefined)));
  return orphans.length;
}

/** The containers of this backend kind on the engine (ids), whoever owns them. */
export async function listLabelledContainers(engine: ContainerEngine, backend: string): Promise<string[]> {
  const listed = await engine.client.container.dockerode.listContainers({ all: true, filters: { label: [`${CONTAINER_LABELS.backend}=${backend}`] } });
  return listed.map((container) => container.Id);
}

const REMOVE_CONTAINER_SCRIPT = `
const [connection, id] = [JSON.parse(process.argv[1]), process.argv[2]];
const target = connection.socketPath ? { socketPath: connection.socketPath } : { host: connection.host, port: connection.port };
const request = require('node:http').request({ ...target, method: 'DELETE', path: '/containers/' + id + '?force=true&v=true', timeout: 10000 }, (response) => response.resume());
request.on('error', () => undefined);
request.end();
`;

// Removes a container synchronously (for exit clean-ups, which cannot wait on
// promises): a short node process sends the engine's DELETE. Best effort; the
// next start's orphan sweep removes what this misses.
export function removeContainerSync(connection: EngineConnection, id: string): void {
  spawnSync(process.execPath, ['-e', REMOVE_CONTAINER_SCRIPT, JSON.stringify(connection), id], { stdio: 'ignore', timeout: 15_000 });
}
