import { LockgraderError } from '../errors.ts';
import { embeddedDescription, startEmbeddedBackend } from './embedded.ts';
import { connectEndpointBackend } from './endpoint.ts';
import { localstackAvailability, startLocalstackBackend } from './localstack.ts';
import { findMoto, motoAvailability, startMotoBackend } from './moto.ts';
import type { LocalstackNetworkRequest } from './localstack-container.ts';
import { hasLockObject, type LabVariant } from './lab-variant.ts';
import type { BackendAvailability, BackendCapabilities, BackendKind, GradingBackend, StartedBackend } from './types.ts';

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

/**
 * What each kind claims before it runs (a backend someone else runs claims
 * nothing: the capability self-test measures it per lab). The backend contract
 * suite fails a kind whose claim is wrong.
 */
export const CLAIMED_CAPABILITIES: Readonly<Record<BackendKind, BackendCapabilities>> = {
  embedded: { s3ConditionalWrites: false },
  moto: { s3ConditionalWrites: true },
  localstack: { s3ConditionalWrites: true },
  endpoint: { s3ConditionalWrites: undefined },
};

/**
 * Refuses (USAGE, before anything runs) a lab variant the backend cannot
 * serve: the lockfile variants need S3 to honour If-None-Match: *, which the
 * embedded s3rver ignores (a second plan would silently take a held lock).
 */
export function assertBackendServesVariant(backend: { kind: BackendKind; capabilities?: BackendCapabilities }, variant: LabVariant): void {
  const claim = (backend.capabilities ?? CLAIMED_CAPABILITIES[backend.kind]).s3ConditionalWrites;
  if (!hasLockObject(variant) || claim !== false) return;
  const able = BACKEND_KINDS.filter((kind) => CLAIMED_CAPABILITIES[kind].s3ConditionalWrites === true);
  throw new LockgraderError(
    'USAGE',
    `--lab-variant ${variant} needs a backend whose S3 honours If-None-Match: * (S3-native locking, use_lockfile), and the ${backend.kind} backend does not ` +
      `(its S3 overwrites the .tflock, so two runs would both "hold" the lock). Use --backend ${able.join(' or --backend ')}; lockgrader doctor says which run here.`,
    { flag: '--lab-variant', value: variant, backend: backend.kind, missing: 's3ConditionalWrites', backends: able },
  );
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
        capabilities: CLAIMED_CAPABILITIES.embedded,
        startPrivate: startEmbeddedBackend,
        stop: async () => undefined,
      };
    case 'moto': {
      const found = await findMoto();
      if ('problem' in found) throw new LockgraderError('BACKEND_UNAVAILABLE', `the moto backend cannot run here: ${found.problem}`, { kind });
      return {
        kind,
        description: `moto ${found.version} (moto_server), a private server per challenge`,
        capabilities: CLAIMED_CAPABILITIES.moto,
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
