import { randomBytes } from 'node:crypto';
import { DEFAULT_LAB_VARIANT, hasLockObject, hasLockTable, type LabVariant } from './lab-variant.ts';
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

/** One grading's private corner of a backend: its own bucket, lock table (where the variant has one) and state key. */
export interface LabStore {
  backend: StartedBackend;
  variant: LabVariant;
  bucket: string;
  /** The DynamoDB lock table (dynamodb and both variants). */
  table?: string;
  key: string;
  /** "<bucket>/<key>": the lock item's LockID, and the Path in every Lock Info (item or object). */
  lockId: string;
  /** The digest item's LockID, "<bucket>/<key>-md5" (where a table exists). */
  digestId?: string;
  /** The S3 lock object's key, "<key>.tflock" (lockfile and both variants). */
  lockObjectKey?: string;
}

/** Where a lock lives: the DynamoDB item or the S3 .tflock object. */
export type LockPlace = 'item' | 'object';

/** A lock found in the store: its raw Lock Info text and, when it parses as Lock Info, the info. */
export interface StoredLock {
  place: LockPlace;
  raw: string;
  info?: LockInfo;
}

/** The s3:// URI of the lock object (LAB_LOCK_OBJECT), where the variant has one. */
export function lockObjectUri(store: LabStore): string | undefined {
  return store.lockObjectKey === undefined ? undefined : `s3://${store.bucket}/${store.lockObjectKey}`;
}

export function createClients(backend: StartedBackend): { ddb: DynamoDBClient; s3: S3Client } {
  const credentials = { accessKeyId: backend.credentials.accessKeyId, secretAccessKey: backend.credentials.secretAccessKey };
  const region = backend.credentials.region;
  return {
    ddb: new DynamoDBClient({ endpoint: backend.endpoints.dynamodb, region, credentials, maxAttempts: 2 }),
    s3: new S3Client({ endpoint: backend.endpoints.s3, region, credentials, forcePathStyle: true, maxAttempts: 2 }),
  };
}

// Creates a bucket and, where the variant has one, a lock table (partition
// key LockID, type S) with unique names, so many gradings can share one
// backend without seeing each other. The lockfile variant has no table.
export async function createLabStore(backend: StartedBackend, options: { key?: string; prefix?: string; variant?: LabVariant } = {}): Promise<LabStore> {
  const suffix = randomBytes(5).toString('hex');
  const prefix = options.prefix ?? 'lg';
  const variant = options.variant ?? DEFAULT_LAB_VARIANT;
  const bucket = `${prefix}-state-${suffix}`;
  const table = hasLockTable(variant) ? `${prefix}-locks-${suffix}` : undefined;
  const key = options.key ?? 'lab/terraform.tfstate';
  const { ddb, s3 } = createClients(backend);
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    if (table) {
      await ddb.send(
        new CreateTableCommand({
          TableName: table,
          AttributeDefinitions: [{ AttributeName: 'LockID', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'LockID', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    }
  } finally {
    ddb.destroy();
    s3.destroy();
  }
  return {
    backend,
    variant,
    bucket,
    key,
    lockId: `${bucket}/${key}`,
    ...(table ? { table, digestId: `${bucket}/${key}-md5` } : {}),
    ...(hasLockObject(variant) ? { lockObjectKey: `${key}.tflock` } : {}),
  };
}

// Removes the store's objects, bucket and table. Missing pieces are fine (a
// learner script may have deleted them).
export async function deleteLabStore(store: LabStore): Promise<void> {
  const { ddb, s3 } = createClients(store.backend);
  try {
    if (store.table) await ddb.send(new DeleteTableCommand({ TableName: store.table })).catch(() => undefined);
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

  /** The places terraform keeps the lock in this variant, the one it takes first (the object) first. */
  private places(): LockPlace[] {
    return [...(this.store.lockObjectKey !== undefined ? (['object'] as const) : []), ...(this.store.table !== undefined ? (['item'] as const) : [])];
  }

  // The primary lock (the .tflock object in the lockfile variants, the item
  // otherwise), or undefined when it is not held. A learner can write any Info:
  // `info` is set only when it parses as Lock Info.
  async readLock(): Promise<StoredLock | undefined> {
    const [primary] = this.places();
    return primary === undefined ? undefined : this.readLockAt(primary);
  }

  /** Every lock of the variant that is held (object first, then item); a deleted table or bucket holds none. */
  async readLocks(gone: { tableGone?: boolean; bucketGone?: boolean } = {}): Promise<StoredLock[]> {
    const found: StoredLock[] = [];
    for (const place of this.places()) {
      if ((place === 'item' && gone.tableGone) || (place === 'object' && gone.bucketGone)) continue;
      const lock = await this.readLockAt(place);
      if (lock) found.push(lock);
    }
    return found;
  }

  private async readLockAt(place: LockPlace): Promise<StoredLock | undefined> {
    let raw: string | undefined;
    if (place === 'item') {
      const result = await this.ddb.send(
        new GetItemCommand({ TableName: this.store.table, Key: { LockID: { S: this.store.lockId } }, ConsistentRead: true }),
      );
      if (!result.Item) return undefined;
      raw = result.Item.Info?.S ?? '';
    } else {
      raw = await this.readObject(this.store.lockObjectKey ?? '');
      if (raw === undefined) return undefined;
    }
    const info = parseLockInfo(raw);
    return { place, raw, ...(info ? { info } : {}) };
  }

  /** The -md5 digest item's Digest, or undefined (also where the variant has no table). */
  async readDigest(): Promise<string | undefined> {
    if (this.store.table === undefined || this.store.digestId === undefined) return undefined;
    const result = await this.ddb.send(
      new GetItemCommand({ TableName: this.store.table, Key: { LockID: { S: this.store.digestId } }, ConsistentRead: true }),
    );
    return result.Item?.Digest?.S;
  }

  /** Every LockID in the table (lock and digest items); none where the variant has no table. */
  async listItems(): Promise<string[]> {
    if (this.store.table === undefined) return [];
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
    if (this.store.table !== undefined) {
      try {
        await this.ddb.send(new DescribeTableCommand({ TableName: this.store.table }));
      } catch (error) {
        if (!missing(error)) throw error;
        found.push(`the lock table ${this.store.table} was deleted`);
      }
    }
    try {
      await this.s3.send(new HeadBucketCommand({ Bucket: this.store.bucket }));
    } catch (error) {
      if (!missing(error)) throw error;
      found.push(`the state bucket ${this.store.bucket} was deleted`);
    }
    return found;
  }

  /** Removes every lock of the variant (the harness clearing a leftover between scenarios). */
  async deleteLocks(): Promise<void> {
    if (this.store.lockObjectKey !== undefined) await this.s3.send(new DeleteObjectCommand({ Bucket: this.store.bucket, Key: this.store.lockObjectKey }));
    if (this.store.table !== undefined) await this.ddb.send(new DeleteItemCommand({ TableName: this.store.table, Key: { LockID: { S: this.store.lockId } } }));
  }

  async readState(): Promise<StateObject | undefined> {
    const body = await this.readObject(this.store.key);
    return body === undefined ? undefined : stateObject(body);
  }

  /** An object's body, or undefined when there is no such object. */
  private async readObject(key: string): Promise<string | undefined> {
    try {
      const result = await this.s3.send(new GetObjectCommand({ Bucket: this.store.bucket, Key: key }));
      return (await result.Body?.transformToString('utf8')) ?? '';
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
