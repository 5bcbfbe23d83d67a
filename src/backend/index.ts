import { LockgraderError } from '../errors.ts';
import { startEmbeddedBackend } from './embedded.ts';
import { connectEndpointBackend } from './endpoint.ts';
import { localstackAvailability, startLocalstackBackend } from './localstack.ts';
import type { BackendAvailability, BackendKind, StartedBackend } from './types.ts';

export const BACKEND_KINDS: readonly BackendKind[] = ['embedded', 'localstack', 'endpoint'];

export function parseBackendKind(value: string): BackendKind {
  if ((BACKEND_KINDS as readonly string[]).includes(value)) return value as BackendKind;
  throw new LockgraderError('USAGE', `unknown backend "${value}"; use one of ${BACKEND_KINDS.join(', ')}`, { backend: value });
}

export async function startBackend(kind: BackendKind, options: { endpoint?: string } = {}): Promise<StartedBackend> {
  switch (kind) {
    case 'embedded':
      return startEmbeddedBackend();
    case 'localstack':
      return startLocalstackBackend();
    case 'endpoint':
      return connectEndpointBackend(options.endpoint);
  }
}

export async function backendAvailability(options: { endpoint?: string } = {}): Promise<BackendAvailability[]> {
  return [
    { kind: 'embedded', available: true, reason: 'in-process dynalite + s3rver on loopback' },
    await localstackAvailability(),
    options.endpoint
      ? { kind: 'endpoint', available: true, reason: `endpoint ${options.endpoint} given` }
      : { kind: 'endpoint', available: false, reason: 'no --endpoint URL given (set LOCKGRADER_ENDPOINT or pass --endpoint)' },
  ];
}
