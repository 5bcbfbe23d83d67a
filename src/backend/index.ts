import { LockgraderError } from '../errors.ts';
import { embeddedDescription, startEmbeddedBackend } from './embedded.ts';
import { connectEndpointBackend } from './endpoint.ts';
import { localstackAvailability, startLocalstackBackend } from './localstack.ts';
import { findMoto, motoAvailability, startMotoBackend } from './moto.ts';
import type { LocalstackNetworkRequest } from './localstack-container.ts';
import type { BackendAvailability, BackendKind, GradingBackend, StartedBackend } from './types.ts';

/** What starting a backend may need beyond its kind. */
export interface BackendOptions {
  /** --endpoint (the endpoint backend). */
  endpoint?: string;
  /** --localstack-network (the localstack backend; default LOCKGRADER_LOCALSTACK_NETWORK, else auto). */
  localstackNetwork?: LocalstackNetworkRequest;
}

export const BACKEND_KINDS: readonly BackendKind[] = ['embedded', 'moto', 'localstack', 'endpoint'];

export function parseBackendKind(value: string): BackendKind {
  if ((BACKEND_KINDS as readonly string[]).includes(value)) return value as BackendKind;
  throw new LockgraderError('USAGE', `unknown backend "${value}"; use one of ${BACKEND_KINDS.join(', ')}`, { backend: value });
}

/** Starts one running backend of a kind (tests, doctor, the contract suite). */
export async function startBackend(kind: BackendKind, options: BackendOptions = {}): Promise<StartedBackend> {
  switch (kind) {
    case 'embedded':
      return startEmbeddedBackend();
    case 'moto':
      return startMotoBackend();
    case 'localstack':
      return startLocalstackBackend({ network: options.localstackNetwork });
    case 'endpoint':
      return connectEndpointBackend(options.endpoint);
  }
}

/** A running backend that every lab of a grading shares (each with its own bucket and table). */
export function sharedBackend(backend: StartedBackend, owned = false): GradingBackend {
  return {
    kind: backend.kind,
    description: backend.description,
    capabilities: backend.capabilities,
    shared: backend,
    stop: owned ? () => backend.stop() : async () => undefined,
  };
}

/**
 * What a grading runs on. embedded and moto start nothing here: each lab
 * starts its own private instance (and a missing moto is reported now, before
 * anything runs). localstack and endpoint are started or joined once, shared.
 */
export async function openGradingBackend(kind: BackendKind, options: BackendOptions = {}): Promise<GradingBackend> {
  switch (kind) {
    case 'embedded':
      return {
        kind,
        description: `${embeddedDescription()}, one per challenge`,
        capabilities: { s3ConditionalWrites: false },
        startPrivate: startEmbeddedBackend,
        stop: async () => undefined,
      };
    case 'moto': {
      const found = await findMoto();
      if ('problem' in found) throw new LockgraderError('BACKEND_UNAVAILABLE', `the moto backend cannot run here: ${found.problem}`, { kind });
      return {
        kind,
        description: `moto ${found.version} (moto_server), a private server per challenge`,
        capabilities: { s3ConditionalWrites: true },
        startPrivate: () => startMotoBackend(),
        stop: async () => undefined,
      };
    }
    case 'localstack':
    case 'endpoint':
      return sharedBackend(await startBackend(kind, options), true);
  }
}

export async function backendAvailability(options: BackendOptions = {}): Promise<BackendAvailability[]> {
  return [
    { kind: 'embedded', available: true, reason: 'in-process dynalite + s3rver on loopback' },
    await motoAvailability(),
    await localstackAvailability({ network: options.localstackNetwork }),
    options.endpoint
      ? { kind: 'endpoint', available: true, reason: `endpoint ${options.endpoint} given` }
      : { kind: 'endpoint', available: false, reason: 'no --endpoint URL given (set LOCKGRADER_ENDPOINT or pass --endpoint)' },
  ];
}
