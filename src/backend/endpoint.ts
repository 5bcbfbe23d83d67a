import { LockgraderError } from '../errors.ts';
import type { StartedBackend } from './types.ts';

// A backend someone else runs (a LocalStack, moto server, ...) at one URL
// serving both S3 and DynamoDB. Credentials come from AWS_ACCESS_KEY_ID /
// AWS_SECRET_ACCESS_KEY / AWS_REGION when set, else the emulators' usual "test".
export function connectEndpointBackend(url: string | undefined, env: NodeJS.ProcessEnv = process.env): StartedBackend {
  if (!url) throw new LockgraderError('USAGE', '--backend endpoint needs --endpoint URL (e.g. http://127.0.0.1:4566)');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new LockgraderError('USAGE', `--endpoint ${url} is not a URL`, { endpoint: url });
  }
  const base = parsed.origin;
  return {
    kind: 'endpoint',
    endpoints: { s3: base, dynamodb: base, single: base },
    credentials: {
      accessKeyId: env.AWS_ACCESS_KEY_ID ?? 'test',
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? 'test',
      region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    },
    description: `endpoint ${base}`,
    startMs: 0,
    async stop() {
      // Not ours to stop.
    },
  };
}
