import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LockgraderError } from '../errors.ts';
import { registerExitCleanup } from '../util/exit-cleanup.ts';
import type { StartedBackend } from './types.ts';

const require = createRequire(import.meta.url);

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  /** Koa's middleware list, composed when the server starts. */
  middleware?: Array<{ name?: string }>;
}

/**
 * s3rver logs every request through koa-logger into a winston console. With `silent` nothing is printed, but each
 * request is still formatted and each streamed response piped through koa-logger's counting stream: a quarter of a
 * second of the grader's CPU per grading under load (a profile of grade-many at concurrency 4). The logger is the first
 * middleware s3rver installs (3.7.x), an `async function logger`; it is dropped before the server starts. Another
 * layout is left as it is.
 */
export function withoutRequestLogger<T extends { middleware?: Array<{ name?: string }> }>(app: T): T {
  if (app.middleware?.[0]?.name === 'logger') app.middleware.shift();
  return app;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;
type Dynalite = (options: Record<string, unknown>) => Server;

// s3rver only accepts this key pair; dynalite accepts any.
export const EMBEDDED_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', region: 'us-east-1' } as const;

/** Which emulators, and their versions. */
export function embeddedDescription(): string {
  return `dynalite ${packageVersion('dynalite')} + s3rver ${packageVersion('s3rver')} (in-process)`;
}

function packageVersion(name: string): string {
  return (require(`${name}/package.json`) as { version: string }).version;
}

function listen(server: Server): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address() as AddressInfo));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** dynalite alone on a loopback ephemeral port (the localstack backend's DynamoDB). */
export interface StartedDynalite {
  endpoint: string;
  description: string;
  stop(): Promise<void>;
}

// Starts dynalite (DynamoDB) in this process on a loopback ephemeral port.
export async function startDynalite(): Promise<StartedDynalite> {
  const dynalite = require('dynalite') as Dynalite;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  try {
    const address = await listen(server);
    return { endpoint: `http://127.0.0.1:${address.port}`, description: `dynalite ${packageVersion('dynalite')}`, stop: () => closeServer(server) };
  } catch (error) {
    await closeServer(server).catch(() => undefined);
    throw error;
  }
}

// Starts dynalite (DynamoDB) and s3rver (S3) in this process on loopback
// ephemeral ports. s3rver keeps objects in a private temp folder, removed at stop.
export async function startEmbeddedBackend(): Promise<StartedBackend> {
  const started = performance.now();
  const S3rver = require('s3rver') as S3rverClass;
  const directory = await mkdtemp(path.join(tmpdir(), 'lockgrader-s3-'));
  let ddb: StartedDynalite | undefined;
  let s3: S3rverInstance | undefined;
  try {
    ddb = await startDynalite();
    s3 = withoutRequestLogger(new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory }));
    const s3Address = await s3.run();
    const [ddbServer, s3Server] = [ddb, s3];
    let stopped = false;
    const unregister = registerExitCleanup(() => rmSync(directory, { recursive: true, force: true }));
    return {
      kind: 'embedded',
      endpoints: { s3: `http://127.0.0.1:${s3Address.port}`, dynamodb: ddbServer.endpoint },
      credentials: { ...EMBEDDED_CREDENTIALS },
      description: embeddedDescription(),
      startMs: performance.now() - started,
      // s3rver ignores If-None-Match on PUT (measured: every concurrent writer "wins").
      capabilities: { s3ConditionalWrites: false },
      async stop() {
        if (stopped) return;
        stopped = true;
        unregister();
        await Promise.allSettled([ddbServer.stop(), s3Server.close()]);
        await rm(directory, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await ddb?.stop().catch(() => undefined);
    await s3?.close().catch(() => undefined);
    await rm(directory, { recursive: true, force: true });
    throw new LockgraderError('BACKEND_FAILED', `the embedded backend could not start: ${String(error)}`, { kind: 'embedded' }, { cause: error });
  }
}
