import { LockgraderError } from '../errors.ts';
import type { BackendEndpoints, StartedBackend } from './types.ts';

function origin(value: string, flag: string): string {
  try {
    return new URL(value).origin;
  } catch {
    throw new LockgraderError('USAGE', `${flag} ${value} is not a URL`, { endpoint: value });
  }
}

// Parses --endpoint: one URL serving S3 and DynamoDB (LocalStack, moto), or
// "s3=URL,dynamodb=URL" for separate services (lockgrader serve-backend).
export function parseEndpoints(value: string): BackendEndpoints {
  if (!value.includes('=')) {
    const base = origin(value, '--endpoint');
    return { s3: base, dynamodb: base, single: base };
  }
  const parts = Object.fromEntries(value.split(',').map((part) => part.split('=', 2).map((piece) => piece.trim())));
  if (!parts.s3 || !parts.dynamodb) throw new LockgraderError('USAGE', `--endpoint ${value} needs both s3=URL and dynamodb=URL`, { endpoint: value });
  return { s3: origin(parts.s3, '--endpoint s3='), dynamodb: origin(parts.dynamodb, '--endpoint dynamodb=') };
}

// A backend someone else runs. Credentials come from AWS_ACCESS_KEY_ID /
// AWS_SECRET_ACCESS_KEY / AWS_REGION when set, else the emulators' usual "test".
export function connectEndpointBackend(url: string | undefined, env: NodeJS.ProcessEnv = process.env): StartedBackend {
  if (!url) throw new LockgraderError('USAGE', '--backend endpoint needs --endpoint URL (e.g. http://127.0.0.1:4566, or s3=URL,dynamodb=URL)');
  const endpoints = parseEndpoints(url);
  return {
    kind: 'endpoint',
    endpoints,
    credentials: {
      accessKeyId: env.AWS_ACCESS_KEY_ID ?? 'test',
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? 'test',
      region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    },
    description: endpoints.single ? `endpoint ${endpoints.single}` : `endpoints s3=${endpoints.s3} dynamodb=${endpoints.dynamodb}`,
    startMs: 0,
    // Not claimed: the capability self-test measures it when a lab variant needs it.
    capabilities: { s3ConditionalWrites: undefined },
    async stop() {
      // Not ours to stop.
    },
  };
}
