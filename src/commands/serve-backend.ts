import { once } from 'node:events';
import { startEmbeddedBackend } from '../backend/embedded.ts';

// Runs the embedded backend as a service until SIGINT/SIGTERM, printing one
// JSON line with its endpoints and credentials. Other gradings join it with
// --backend endpoint --endpoint s3=URL,dynamodb=URL (and the printed
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
export async function serveBackendCommand(_argv: string[]): Promise<number> {
  const backend = await startEmbeddedBackend();
  const { endpoints, credentials } = backend;
  console.log(
    JSON.stringify({
      endpoint: `s3=${endpoints.s3},dynamodb=${endpoints.dynamodb}`,
      s3: endpoints.s3,
      dynamodb: endpoints.dynamodb,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_REGION: credentials.region,
      start_ms: Math.round(backend.startMs),
    }),
  );
  await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
  await backend.stop();
  return 0;
}
