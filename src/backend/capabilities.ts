import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createClients } from './lab-store.ts';
import type { StartedBackend } from './types.ts';

export interface S3ConditionalWriteProbe {
  /** Whether a second PutObject with If-None-Match: * was refused (412). */
  honoured: boolean;
  /** What the second put got (HTTP status, or 200 when it overwrote). */
  secondPutStatus: number;
  /** The object's body after both puts ("first" when refused). */
  bodyAfter: string;
}

// Probes whether the backend's S3 enforces If-None-Match: * (what S3-native
// locking, use_lockfile, relies on). Without it nothing may claim S3-native locking.
export async function probeS3ConditionalWrites(backend: StartedBackend, bucket: string): Promise<S3ConditionalWriteProbe> {
  const { s3, ddb } = createClients(backend);
  const key = `probe/${randomBytes(4).toString('hex')}.tflock`;
  try {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'first', IfNoneMatch: '*' }));
    let secondPutStatus = 200;
    try {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'second', IfNoneMatch: '*' }));
    } catch (error) {
      secondPutStatus = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
    }
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bodyAfter = (await got.Body?.transformToString()) ?? '';
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    return { honoured: secondPutStatus === 412 && bodyAfter === 'first', secondPutStatus, bodyAfter };
  } finally {
    s3.destroy();
    ddb.destroy();
  }
}

/** The capability self-test on a bucket of its own (created and removed here): doctor, and backends that claim nothing. */
export async function selfTestS3ConditionalWrites(backend: StartedBackend): Promise<S3ConditionalWriteProbe> {
  const { s3, ddb } = createClients(backend);
  const bucket = `lg-probe-${randomBytes(5).toString('hex')}`;
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    try {
      return await probeS3ConditionalWrites(backend, bucket);
    } finally {
      await s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
    }
  } finally {
    s3.destroy();
    ddb.destroy();
  }
}
