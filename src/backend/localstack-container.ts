// One LocalStack container, started through @testcontainers/localstack in one
// of the two ways users run it: the usual bridge network with a mapped port
// (GitHub Actions, a laptop), or the host network with a port chosen here (an
// engine without a bridge: containers then share this machine's loopback).
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { LockgraderError } from '../errors.ts';
import { registerExitCleanup } from '../util/exit-cleanup.ts';
import { ownerLabels, removeContainerSync, type ContainerEngine } from './container-engine.ts';

export type LocalstackNetwork = 'host' | 'bridge';
export type LocalstackNetworkRequest = LocalstackNetwork | 'auto';
export const LOCALSTACK_NETWORKS: readonly LocalstackNetworkRequest[] = ['auto', 'host', 'bridge'];

export function parseLocalstackNetwork(value: string | undefined): LocalstackNetworkRequest {
  if (value === undefined || value === '') return 'auto';
  if ((LOCALSTACK_NETWORKS as readonly string[]).includes(value)) return value as LocalstackNetworkRequest;
  throw new LockgraderError('USAGE', `unknown LocalStack network "${value}"; use one of ${LOCALSTACK_NETWORKS.join(', ')}`, { localstack_network: value });
}

// The network mode for this engine: bridge where it has one (ports mapped as
// usual), else the host network when the engine is on this machine.
export function chooseNetwork(
  requested: LocalstackNetworkRequest,
  engine: Pick<ContainerEngine, 'networks' | 'local'>,
): { network: LocalstackNetwork; why: string } | { unavailable: string } {
  const hasBridge = engine.networks.includes('bridge');
  const hostReason = 'the engine is not on this machine (a host-network container would listen on its loopback, not ours)';
  if (requested === 'bridge') {
    return hasBridge ? { network: 'bridge', why: 'asked for' } : { unavailable: 'the engine has no bridge network (started with --bridge=none?): use --localstack-network host (or LOCKGRADER_LOCALSTACK_NETWORK=host)' };
  }
  if (requested === 'host') return engine.local ? { network: 'host', why: 'asked for' } : { unavailable: hostReason };
  if (hasBridge) return { network: 'bridge', why: 'the engine has a bridge network' };
  if (engine.local) return { network: 'host', why: 'the engine has no bridge network' };
  return { unavailable: `the engine has no bridge network and ${hostReason}` };
}

// LocalStack's settings: S3 only (its DynamoDB is not used, see localstack-image.ts),
// no DNS server (on the host network it would take port 53), no certificate
// download and no analytics (nothing leaves the machine), hypercorn (LocalStack's
// default server binds 0.0.0.0 whatever it is told), on 127.0.0.1:PORT on the host
// network. LOCALSTACK_AUTH_TOKEN is passed through when set (newer images need it).
export function localstackEnvironment(network: LocalstackNetwork, port: number | undefined, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return {
    SERVICES: 's3',
    EAGER_SERVICE_LOADING: '1',
    DNS_ADDRESS: '0',
    SKIP_SSL_CERT_DOWNLOAD: '1',
    DISABLE_EVENTS: '1',
    GATEWAY_SERVER: 'hypercorn',
    ...(network === 'host' ? { GATEWAY_LISTEN: `127.0.0.1:${port}` } : {}),
    ...(env.LOCALSTACK_AUTH_TOKEN ? { LOCALSTACK_AUTH_TOKEN: env.LOCALSTACK_AUTH_TOKEN } : {}),
  };
}

export interface RunningLocalstack {
  url: string;
  /** LocalStack's own version, from its health endpoint. */
  version: string;
  containerId: string;
  network: LocalstackNetwork;
  startMs: number;
  stop(): Promise<void>;
}

type LocalstackModule = typeof import('@testcontainers/localstack');

// LocalstackContainer maps port 4566 and waits for its binding; on the host
// network there is no binding to wait for. Same image, same "Ready" wait, no ports.
function hostNetworkContainer(module: LocalstackModule, image: string) {
  class HostNetworkLocalstackContainer extends module.LocalstackContainer {
    constructor() {
      super(image);
      this.exposedPorts = [];
      delete this.createOpts.ExposedPorts;
      delete this.hostConfig.PortBindings;
      this.withNetworkMode('host');
    }
  }
  return new HostNetworkLocalstackContainer();
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(true));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
  });
}

// Asks LocalStack's health endpoint for its version: proves the port is this
// container's LocalStack (not another program's) and that S3 is up.
async function readHealth(url: string): Promise<string> {
  const response = await fetch(`${url}/_localstack/health`, { signal: AbortSignal.timeout(10_000) });
  const health = (await response.json()) as { version?: string; services?: Record<string, string> };
  const s3 = health.services?.s3;
  if (!health.version || (s3 !== 'available' && s3 !== 'running')) throw new Error(`${url}/_localstack/health answered ${JSON.stringify(health).slice(0, 300)}`);
  return health.version;
}

/** Starts one LocalStack container; stop() removes it. An interrupted process removes it on exit. */
export async function startLocalstackContainer(
  engine: ContainerEngine,
  options: { image: string; network: LocalstackNetwork; env?: NodeJS.ProcessEnv; startupTimeoutMs?: number },
): Promise<RunningLocalstack> {
  const started = performance.now();
  const module = await import('@testcontainers/localstack');
  const maxAttempts = options.network === 'host' ? 3 : 1;
  for (let attempt = 1; ; attempt += 1) {
    const port = options.network === 'host' ? await freeLoopbackPort() : undefined;
    const name = `lockgrader-localstack-${process.pid}-${randomBytes(3).toString('hex')}`;
    const container = options.network === 'host' ? hostNetworkContainer(module, options.image) : new module.LocalstackContainer(options.image);
    container
      .withName(name)
      .withLabels(ownerLabels('localstack'))
      .withEnvironment(localstackEnvironment(options.network, port, options.env))
      .withStartupTimeout(options.startupTimeoutMs ?? 120_000);
    // Registered before the engine is asked: an interrupt during start removes the container by name.
    const unregister = registerExitCleanup(() => removeContainerSync(engine.connection, name));
    let running;
    try {
      running = await container.start();
    } catch (error) {
      unregister();
      await engine.client.container.dockerode.getContainer(name).remove({ force: true, v: true }).catch(() => undefined);
      // On the host network another program may have taken the chosen port in the meantime.
      if (port !== undefined && attempt < maxAttempts && (await portTaken(port))) continue;
      throw new LockgraderError('BACKEND_FAILED', `LocalStack (${options.image}, ${options.network} network) did not start: ${(error as Error).message}`, {
        kind: 'localstack',
        image: options.image,
        network: options.network,
      }, { cause: error });
    }
    const containerId = running.getId();
    const stop = async () => {
      unregister();
      await running.stop();
    };
    try {
      const url = port === undefined ? running.getConnectionUri() : `http://127.0.0.1:${port}`;
      const version = await readHealth(url);
      return { url, version, containerId, network: options.network, startMs: performance.now() - started, stop };
    } catch (error) {
      await stop();
      throw new LockgraderError('BACKEND_FAILED', `LocalStack (${options.image}) started but its health check failed: ${(error as Error).message}`, { kind: 'localstack', image: options.image }, { cause: error });
    }
  }
}
