import { randomBytes } from 'node:crypto';
import { parseLockInfo, stateObject, type LockInfo, type StateObject } from './lock-info.ts';

export { parseLockInfo, stateObject, type LockInfo, type StateObject };
import {
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import type { StartedBackend } from './types.ts';

/** One grading's private corner of a backend: its own bucket, lock table and state key. */
export interface LabStore {
  backend: StartedBackend;
  bucket: string;
  table: string;
  key: string;
  /** The lock item's LockID: "<bucket>/<key>". */
  lockId: string;
  /** The digest item's LockID: "<bucket>/<key>-md5". */
  digestId: string;
}

export function createClients(backend: StartedBackend): { ddb: DynamoDBClient; s3: S3Client } {
  const credentials = { accessKeyId: backend.credentials.accessKeyId, secretAccessKey: backend.credentials.secretAccessKey };
  const region = backend.credentials.region;
  return {
    ddb: new DynamoDBClient({ endpoint: backend.endpoints.dynamodb, region, credentials, maxAttempts: 2 }),
    s3: new S3Client({ endpoint: backend.endpoints.s3, region, credentials, forcePathStyle: true, maxAttempts: 2 }),
  };
}

// Creates a bucket and a lock table (partition key LockID, type S) with
// unique names, so many gradings can share one backend without seeing each other.
export async function createLabStore(backend: StartedBackend, options: { key?: string; prefix?: string } = {}): Promise<LabStore> {
  const suffix = randomBytes(5).toString('hex');
  const prefix = options.prefix ?? 'lg';
  const bucket = `${prefix}-state-${suffix}`;
  const table = `${prefix}-locks-${suffix}`;
  const key = options.key ?? 'lab/terraform.tfstate';
  const { ddb, s3 } = createClients(backend);
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await ddb.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [{ AttributeName: 'LockID', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'LockID', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } finally {
    ddb.destroy();
    s3.destroy();
  }
  return { backend, bucket, table, key, lockId: `${bucket}/${key}`, digestId: `${bucket}/${key}-md5` };
}

// Removes the store's objects, bucket and table. Missing pieces are fine (a
// learner script may have deleted them).
export async function deleteLabStore(store: LabStore): Promise<void> {
  const { ddb, s3 } = createClients(store.backend);
  try {
    await ddb.send(new DeleteTableCommand({ TableName: store.table })).catch(() => undefined);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: store.bucket })).catch(() => undefined);
    for (const object of listed?.Contents ?? []) {
      if (object.Key) await s3.send(new DeleteObjectCommand({ Bucket: store.bucket, Key: object.Key })).catch(() => undefined);
    }
    await s3.send(new DeleteBucketCommand({ Bucket: store.bucket })).catch(() => undefined);
  } finally {
    ddb.destroy();
    s3.destroy();
  }
}

/** Reads the lab's lock and state: the calls the checks and the replays make. */
export class LabStoreReader {
  readonly store: LabStore;
  private readonly ddb: DynamoDBClient;
  private readonly s3: S3Client;

  constructor(store: LabStore) {
    this.store = store;
    ({ ddb: this.ddb, s3: this.s3 } = createClients(store.backend));
  }

  // The lock item (consistent read), or undefined when no lock is held. A
  // learner can write any Info: `info` is set only when it parses as Lock Info.
  async readLock(): Promise<{ info?: LockInfo; raw: string } | undefined> {
    const result = await this.ddb.send(
      new GetItemCommand({ TableName: this.store.table, Key: { LockID: { S: this.store.lockId } }, ConsistentRead: true }),
    );
    if (!result.Item) return undefined;
    const raw = result.Item.Info?.S ?? '';
    return { raw, info: parseLockInfo(raw) };
  }

  async readDigest(): Promise<string | undefined> {
    const result = await this.ddb.send(
      new GetItemCommand({ TableName: this.store.table, Key: { LockID: { S: this.store.digestId } }, ConsistentRead: true }),
    );
    return result.Item?.Digest?.S;
  }

  /** Every LockID in the table (lock and digest items). */
  async listItems(): Promise<string[]> {
    const result = await this.ddb.send(new ScanCommand({ TableName: this.store.table, ConsistentRead: true }));
    return (result.Items ?? []).map((item) => item.LockID?.S ?? '').filter((id) => id !== '');
  }

  // What a learner script destroyed: the lock table, the state bucket, the state object.
  async damage(): Promise<string[]> {
    const found: string[] = [];
    const missing = (error: unknown) => {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      return (error as { name?: string }).name === 'ResourceNotFoundException' || status === 404 || status === 400;
    };
    try {
      await this.ddb.send(new DescribeTableCommand({ TableName: this.store.table }));
    } catch (error) {
      if (!missing(error)) throw error;
      found.push(`the lock table ${this.store.table} was deleted`);
    }
    try {
      await this.s3.send(new HeadBucketCommand({ Bucket: this.store.bucket }));
    } catch (error) {
      if (!missing(error)) throw error;
      found.push(`the state bucket ${this.store.bucket} was deleted`);
    }
    return found;
  }

  async deleteLockItem(): Promise<void> {
    await this.ddb.send(new DeleteItemCommand({ TableName: this.store.table, Key: { LockID: { S: this.store.lockId } } }));
  }

  async readState(): Promise<StateObject | undefined> {
    try {
      const result = await this.s3.send(new GetObjectCommand({ Bucket: this.store.bucket, Key: this.store.key }));
      return stateObject((await result.Body?.transformToString('utf8')) ?? '');
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchKey' || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) {
        return undefined;
      }
      throw error;
    }
  }

  close(): void {
    this.ddb.destroy();
    this.s3.destroy();
  }
}
