// Reads a submission archive that a job points at ({"s3": {"bucket", "key"}})
// with the AWS SDK and the worker's own credentials (the standard AWS
// environment), at most 1 MiB. A missing object or bucket is
// SUBMISSION_UNREADABLE (retrying cannot help); anything else — the network,
// credentials, a 5xx — is STORAGE_UNAVAILABLE (the job is retried).
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { LockgraderError } from '../errors.ts';
import { formatBytes, MAX_ARCHIVE_BYTES, unreadable } from './archive-rules.ts';

export interface S3Pointer {
  bucket: string;
  key: string;
}

export type S3ArchiveReader = (pointer: S3Pointer) => Promise<Buffer>;

/** A reader with one S3 client; `endpoint` (an S3-compatible store) implies path-style addressing. */
export function s3ArchiveReader(options: { endpoint?: string } = {}): { read: S3ArchiveReader; close(): void } {
  const endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL_S3;
  const client = new S3Client({
    region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
  });
  const read: S3ArchiveReader = async ({ bucket, key }) => {
    const where = `s3://${bucket}/${key}`;
    try {
      const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const size = response.ContentLength ?? 0;
      const tooLarge = (bytes: number) => unreadable(`the upload ${where} is ${formatBytes(bytes)} (${bytes} bytes); a submission archive may be at most ${formatBytes(MAX_ARCHIVE_BYTES)}`, { object: where, rule: 'too-large', size_bytes: bytes, limit_bytes: MAX_ARCHIVE_BYTES });
      if (size > MAX_ARCHIVE_BYTES) {
        (response.Body as { destroy?: () => void } | undefined)?.destroy?.();
        throw tooLarge(size);
      }
      const chunks: Buffer[] = [];
      let total = 0;
      for await (const chunk of response.Body as AsyncIterable<Uint8Array>) {
        total += chunk.length;
        if (total > MAX_ARCHIVE_BYTES) throw tooLarge(total);
        chunks.push(Buffer.from(chunk));
      }
      return Buffer.concat(chunks);
    } catch (error) {
      if (error instanceof LockgraderError) throw error;
      const name = (error as { name?: string }).name ?? '';
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (name === 'NoSuchKey' || name === 'NoSuchBucket' || status === 404) throw unreadable(`the upload ${where} does not exist (${name || status})`, { object: where, rule: 'missing' });
      throw new LockgraderError('STORAGE_UNAVAILABLE', `cannot read the upload ${where}: ${name ? `${name}: ` : ''}${(error as Error).message}`, { object: where, status });
    }
  };
  return { read, close: () => client.destroy() };
}
