// Pure parsing of one S3 or DynamoDB exchange into the fields of a
// BackendRequest. The relay (relay.ts) feeds it what it saw on the wire; no I/O
// here, so every rule has a table test (classify.test.ts).
import { gunzipSync, inflateSync, brotliDecompressSync } from 'node:zlib';
import type { BackendService } from './backend-log.ts';

/** Request headers as node:http gives them (lower-case names). */
export type Headers = Record<string, string | string[] | undefined>;

export function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

const DYNAMODB_TARGET = /^DynamoDB_\d{8}\.(\w+)$/;

/**
 * Which service a request is for. DynamoDB's JSON protocol names the operation
 * in X-Amz-Target; nothing else does, so on a port serving both (LocalStack)
 * that header decides. On a port for one service, the port decides.
 */
export function classifyService(headers: Headers, portService: BackendService | 'both'): BackendService {
  if (portService !== 'both') return portService;
  return DYNAMODB_TARGET.test(header(headers, 'x-amz-target') ?? '') ? 'dynamodb' : 's3';
}

export interface DynamoDbRequestFacts {
  operation: string;
  table?: string;
  lockId?: string;
  conditional: boolean;
  item?: Record<string, string>;
  condition?: string;
  /** A PartiQL request (ExecuteStatement, BatchExecuteStatement, ExecuteTransaction) with an INSERT, UPDATE or DELETE. */
  partiqlWrite?: true;
}

const PARTIQL_WRITE = /^\s*(insert|update|delete)\b/i;

/** The statements of a PartiQL request body: Statement, Statements[].Statement, TransactStatements[].Statement. */
function partiqlStatements(parsed: Record<string, unknown>): string[] {
  const listed = [parsed.Statements, parsed.TransactStatements].flatMap((list) => (Array.isArray(list) ? list : []));
  return [parsed.Statement, ...listed.map((entry) => (isRecord(entry) ? entry.Statement : undefined))].filter((text): text is string => typeof text === 'string');
}

type AttributeMap = Record<string, Record<string, unknown> | undefined>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Only the S (string) attributes: LockID, Info and Digest are all strings, and
// a flat Record<string, string> is what a check wants to compare.
function stringAttributes(map: unknown): Record<string, string> | undefined {
  if (!isRecord(map)) return undefined;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(map as AttributeMap)) {
    if (isRecord(value) && typeof value.S === 'string') out[name] = value.S;
  }
  return out;
}

function nonEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false;
  if (isRecord(value)) return Object.keys(value).length > 0;
  return true;
}

/**
 * The operation and lock facts of a DynamoDB request. body is the JSON request
 * body (undefined when it was too large to keep); a body that is not JSON
 * still yields the operation from the target.
 */
export function describeDynamoDbRequest(target: string | undefined, method: string, body: string | undefined): DynamoDbRequestFacts {
  const match = DYNAMODB_TARGET.exec(target ?? '');
  const operation = match?.[1] ?? `Other:${method}`;
  let parsed: unknown;
  try {
    parsed = body === undefined || body === '' ? undefined : JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  if (!isRecord(parsed)) return { operation, conditional: false };
  const facts: DynamoDbRequestFacts = {
    operation,
    // Expected is the legacy (pre-expression) form of a condition; the AWS CLI
    // and old SDKs can still send it.
    conditional: nonEmpty(parsed.ConditionExpression) || nonEmpty(parsed.Expected),
  };
  if (typeof parsed.TableName === 'string') facts.table = parsed.TableName;
  if (partiqlStatements(parsed).some((statement) => PARTIQL_WRITE.test(statement))) facts.partiqlWrite = true;
  if (typeof parsed.ConditionExpression === 'string') facts.condition = parsed.ConditionExpression;
  const attributes = operation === 'PutItem' ? stringAttributes(parsed.Item) : stringAttributes(parsed.Key);
  if (attributes) {
    facts.item = attributes;
    if (attributes.LockID !== undefined) facts.lockId = attributes.LockID;
  }
  return facts;
}

/** DynamoDB error bodies are {"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",...}. */
export function dynamoDbErrorType(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (!isRecord(parsed) || typeof parsed.__type !== 'string') return undefined;
    const type = parsed.__type;
    return type.slice(type.lastIndexOf('#') + 1) || undefined;
  } catch {
    return undefined;
  }
}

// HEAD responses carry no body, so the error code must come from the status.
const HEAD_ERROR_NAMES: Record<number, string> = {
  400: 'BadRequest',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  412: 'PreconditionFailed',
};

/** The S3 error code: <Code> of the XML error body, or the status name for HEAD. */
export function s3ErrorType(method: string, status: number, body: string | undefined): string | undefined {
  if (status < 300) return undefined;
  if (method === 'HEAD') return HEAD_ERROR_NAMES[status];
  const code = /<Code>\s*([^<]+?)\s*<\/Code>/.exec(body ?? '');
  return code?.[1];
}

export interface S3RequestFacts {
  operation: string;
  bucket?: string;
  key?: string;
  conditional: boolean;
}

// Query parameters that turn an object or bucket request into a different
// operation (tagging, ACLs, multipart uploads, bucket configuration...). Such
// requests are 'Other:<METHOD>' rather than mistaken for GetObject/PutObject.
const SUBRESOURCES = new Set([
  'accelerate', 'acl', 'analytics', 'attributes', 'cors', 'encryption', 'intelligent-tiering', 'inventory',
  'legal-hold', 'lifecycle', 'location', 'logging', 'metrics', 'notification', 'object-lock', 'ownershipControls',
  'partNumber', 'policy', 'policyStatus', 'publicAccessBlock', 'replication', 'requestPayment', 'restore', 'retention',
  'select', 'tagging', 'torrent', 'uploadId', 'uploads', 'versioning', 'versions', 'website',
]);

// Hosts that are the service itself. A request whose Host is "<bucket>.<one of
// these>" is virtual-host style. IP literals are always path style (a bucket
// cannot be a label of an IP address).
const SERVICE_HOSTS = ['localhost', 'localhost.localstack.cloud', 's3.localhost.localstack.cloud'];
const AWS_VIRTUAL_HOST = /^(.+)\.s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com(?:\.cn)?$/;

function hostname(host: string): string {
  const withoutPort = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
  return withoutPort.toLowerCase().replace(/\.$/, '');
}

/** The bucket named by a virtual-host style Host header, or undefined for path style. */
export function virtualHostBucket(host: string | undefined, serviceHosts: readonly string[] = []): string | undefined {
  if (!host) return undefined;
  const name = hostname(host);
  if (name.startsWith('[') || /^\d+\.\d+\.\d+\.\d+$/.test(name)) return undefined;
  const aws = AWS_VIRTUAL_HOST.exec(name);
  if (aws) return aws[1];
  // The longest service host first: "s3.localhost.localstack.cloud" before "localhost.localstack.cloud".
  const bases = [...SERVICE_HOSTS, ...serviceHosts.map((h) => hostname(h))].sort((a, b) => b.length - a.length);
  for (const base of bases) {
    if (name === base) return undefined;
    if (name.endsWith(`.${base}`)) return name.slice(0, -(base.length + 1));
  }
  return undefined;
}

/**
 * Whether an S3 request's Host names the service the way this relay reads it: an IP literal, a service host
 * (localhost, LocalStack's, the upstream's), or a virtual host of one (`<bucket>.localhost`, `<bucket>.s3.amazonaws.com`).
 * Any other name is refused by the relay: s3rver takes a whole unknown host name as the bucket (CNAME style) while
 * this classifier reads the bucket from the path, so `curl -H "Host: <bucket>" .../<key>` wrote the state unseen
 * (c3-cheat-host-header-bucket); another backend may read such a host the other way round.
 */
export function knownS3Host(host: string | undefined, serviceHosts: readonly string[] = []): boolean {
  if (host === undefined || host === '') return true;
  const name = hostname(host);
  if (name.startsWith('[') || /^\d+\.\d+\.\d+\.\d+$/.test(name)) return true;
  if (AWS_VIRTUAL_HOST.test(name)) return true;
  return [...SERVICE_HOSTS, ...serviceHosts.map((h) => hostname(h))].some((base) => name === base || name.endsWith(`.${base}`));
}

function decodePathSegment(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a malformed escape: keep the raw text rather than lose the request
  }
}

/**
 * The S3 operation, bucket and key of a request. serviceHosts are extra host
 * names of the S3 service (the upstream's), for virtual-host detection.
 */
export function describeS3Request(method: string, url: string, headers: Headers, serviceHosts: readonly string[] = []): S3RequestFacts {
  const parsed = new URL(url, 'http://relay.invalid');
  const query = new Set(parsed.searchParams.keys());
  const conditional = header(headers, 'if-none-match') !== undefined || header(headers, 'if-match') !== undefined;
  // The raw path, split before decoding: an encoded "/" (%2F) belongs to the key.
  const rawPath = url.split('?')[0] ?? '/';
  const pathPart = rawPath.startsWith('/') ? rawPath.slice(1) : rawPath.replace(/^[a-z]+:\/\/[^/]*\/?/i, '');
  let bucket = virtualHostBucket(header(headers, 'host'), serviceHosts);
  let rawKey: string;
  if (bucket !== undefined) {
    rawKey = pathPart;
  } else {
    const slash = pathPart.indexOf('/');
    const rawBucket = slash === -1 ? pathPart : pathPart.slice(0, slash);
    bucket = rawBucket === '' ? undefined : decodePathSegment(rawBucket);
    rawKey = slash === -1 ? '' : pathPart.slice(slash + 1);
  }
  const key = rawKey === '' ? undefined : decodePathSegment(rawKey);
  const facts: S3RequestFacts = { operation: `Other:${method}`, conditional };
  if (bucket !== undefined) facts.bucket = bucket;
  if (key !== undefined) facts.key = key;
  facts.operation = s3Operation(method, bucket, key, query, headers);
  return facts;
}

function s3Operation(method: string, bucket: string | undefined, key: string | undefined, query: Set<string>, headers: Headers): string {
  const other = `Other:${method}`;
  if (bucket === undefined) return method === 'GET' ? 'ListBuckets' : other;
  if (method === 'POST' && key === undefined && query.has('delete')) return 'DeleteObjects';
  // A multipart upload writes its key when it completes, whatever the object was (a state, a .tflock): named,
  // so that the evidence sees the write (c3-cheat-multipart-state uploaded the state that way, unseen).
  if (key !== undefined && query.has('uploadId')) {
    if (method === 'PUT' && query.has('partNumber')) return header(headers, 'x-amz-copy-source') !== undefined ? 'UploadPartCopy' : 'UploadPart';
    if (method === 'POST') return 'CompleteMultipartUpload';
    if (method === 'DELETE') return 'AbortMultipartUpload';
    if (method === 'GET') return 'ListParts';
  }
  if (key !== undefined && method === 'POST' && query.has('uploads')) return 'CreateMultipartUpload';
  if ([...query].some((name) => SUBRESOURCES.has(name))) return other;
  if (key === undefined) {
    switch (method) {
      case 'GET':
        return 'ListObjects'; // v1 and v2 (list-type=2) alike
      case 'PUT':
        return 'CreateBucket';
      case 'DELETE':
        return 'DeleteBucket';
      case 'HEAD':
        return 'HeadBucket';
      case 'POST':
        // A browser-form upload (POST Object): the key is a field of its multipart/form-data body (postObjectKey).
        return 'PostObject';
      default:
        return other;
    }
  }
  switch (method) {
    case 'GET':
      return 'GetObject';
    case 'PUT':
      return header(headers, 'x-amz-copy-source') !== undefined ? 'CopyObject' : 'PutObject';
    case 'DELETE':
      return 'DeleteObject';
    case 'HEAD':
      return 'HeadObject';
    default:
      return other;
  }
}

const XML_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function xmlText(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);/g, (whole, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(Number.parseInt(entity.slice(1), 10));
    return XML_ENTITIES[entity] ?? whole;
  });
}

/**
 * The object keys an S3 DeleteObjects request body names
 * (<Delete><Object><Key>k</Key></Object>...</Delete>), XML entities decoded.
 * A body that names none (or is not that XML) gives [].
 */
export function deleteObjectsKeys(body: string): string[] {
  return [...body.matchAll(/<Object\b[^>]*>[\s\S]*?<Key>([\s\S]*?)<\/Key>[\s\S]*?<\/Object>/g)].map((match) => xmlText(match[1] ?? ''));
}

/**
 * Whether an S3 request body is in aws-chunked framing (SigV4 streaming:
 * "<hex size>[;chunk-signature=...]\r\n<data>\r\n ... 0\r\n<trailers>\r\n").
 */
export function isAwsChunked(headers: Headers): boolean {
  const encoding = header(headers, 'content-encoding') ?? '';
  const sha = header(headers, 'x-amz-content-sha256') ?? '';
  return /(^|,)\s*aws-chunked\s*(,|$)/i.test(encoding) || sha.startsWith('STREAMING-');
}

/** The payload inside aws-chunked framing, or undefined when the bytes are not well-formed framing. */
export function decodeAwsChunked(raw: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', offset, 'latin1');
    if (lineEnd === -1) return undefined;
    const sizeText = raw.subarray(offset, lineEnd).toString('latin1').split(';')[0]?.trim() ?? '';
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) return undefined;
    const size = Number.parseInt(sizeText, 16);
    const dataStart = lineEnd + 2;
    if (size === 0) return Buffer.concat(parts); // what follows are trailers (checksums), not payload
    const dataEnd = dataStart + size;
    if (dataEnd + 2 > raw.length || raw.subarray(dataEnd, dataEnd + 2).toString('latin1') !== '\r\n') return undefined;
    parts.push(raw.subarray(dataStart, dataEnd));
    offset = dataEnd + 2;
  }
}

/** Undoes a response Content-Encoding (gzip, deflate, br) for reading an error code; undefined when it cannot. */
export function decodeContentEncoding(body: Buffer, encoding: string | undefined): Buffer | undefined {
  const name = (encoding ?? '').trim().toLowerCase();
  try {
    if (name === '' || name === 'identity') return body;
    if (name === 'gzip' || name === 'x-gzip') return gunzipSync(body);
    if (name === 'deflate') return inflateSync(body);
    if (name === 'br') return brotliDecompressSync(body);
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * The key a POST Object (browser-form upload) writes: its form's "key" field, with "${filename}" replaced by the
 * file part's file name as S3 does; undefined when the body holds no key field (or was not kept).
 */
export function postObjectKey(contentType: string | undefined, body: string): string | undefined {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  const mark = boundary?.[1] ?? boundary?.[2];
  if (mark === undefined) return undefined;
  let key: string | undefined;
  let filename: string | undefined;
  for (const part of body.split(`--${mark}`)) {
    const split = part.indexOf('\r\n\r\n');
    if (split === -1) continue;
    const head = part.slice(0, split);
    const name = /content-disposition:[^\r\n]*;\s*name="([^"]*)"/i.exec(head)?.[1];
    const file = /content-disposition:[^\r\n]*;\s*filename="([^"]*)"/i.exec(head)?.[1];
    if (file !== undefined) filename = file;
    if (name?.toLowerCase() === 'key' && file === undefined) key = part.slice(split + 4).replace(/\r\n$/, '');
  }
  return key === undefined ? undefined : key.replaceAll('${filename}', filename ?? '');
}
