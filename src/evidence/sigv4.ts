// AWS Signature Version 4 verification of a request as it arrives on the
// wire. Neither embedded emulator checks SigV4 (s3rver only looks up the
// access key id; dynalite accepts anything), so without this nothing would
// notice a relay that alters a signed header. The relay's tests put a
// verifying hop behind the relay; a backend that does check (real AWS,
// LocalStack with signature checks on) would reject the same requests.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface SignedRequest {
  method: string;
  /** The request target as sent: path and raw query. */
  url: string;
  /** Header names and values as received (node's rawHeaders). */
  rawHeaders: string[];
  /** The body, to hash when the client did not send x-amz-content-sha256 (DynamoDB). */
  body?: Buffer;
}

export type SigV4Verdict =
  | { ok: true; accessKeyId: string; region: string; service: string; signedHeaders: string[] }
  | { ok: false; reason: string; canonicalRequest?: string };

const AUTHORIZATION = /^AWS4-HMAC-SHA256\s+Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/;

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

// RFC 3986 unreserved characters stay; everything else is %XX (upper case).
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

// Query parameters decoded, re-encoded strictly, sorted by name then value.
// '+' is taken literally (SigV4 clients send a space as %20).
export function canonicalQuery(rawQuery: string): string {
  if (rawQuery === '') return '';
  return rawQuery
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq === -1 ? pair : pair.slice(0, eq);
      const value = eq === -1 ? '' : pair.slice(eq + 1);
      return [uriEncode(safeDecode(name)), uriEncode(safeDecode(value))] as const;
    })
    .sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

// S3 signs the path as sent (each segment encoded once); other services sign
// it encoded a second time. Their paths are "/" in practice.
export function canonicalUri(rawPath: string, service: string): string {
  const path = rawPath === '' ? '/' : rawPath;
  if (service === 's3') return path;
  return path
    .split('/')
    .map((segment) => uriEncode(segment))
    .join('/');
}

/** Verifies the Authorization header's SigV4 signature with the secret of its access key. */
export function verifySigV4(request: SignedRequest, secretFor: (accessKeyId: string) => string | undefined): SigV4Verdict {
  const headers = new Map<string, string[]>();
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = (request.rawHeaders[i] ?? '').toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), request.rawHeaders[i + 1] ?? '']);
  }
  const authorization = headers.get('authorization')?.[0];
  if (!authorization) return { ok: false, reason: 'no Authorization header' };
  const match = AUTHORIZATION.exec(authorization.trim());
  if (!match) return { ok: false, reason: `not a SigV4 Authorization header: ${authorization.slice(0, 60)}` };
  const [, accessKeyId = '', date = '', region = '', service = '', signedHeaderList = '', signature = ''] = match;
  const secret = secretFor(accessKeyId);
  if (secret === undefined) return { ok: false, reason: `unknown access key ${accessKeyId}` };
  const amzDate = headers.get('x-amz-date')?.[0];
  if (!amzDate || !amzDate.startsWith(date)) return { ok: false, reason: `X-Amz-Date ${amzDate ?? 'missing'} does not match the scope date ${date}` };

  const signedHeaders = signedHeaderList.split(';');
  const canonicalHeaders: string[] = [];
  for (const name of signedHeaders) {
    const values = headers.get(name);
    if (values === undefined) return { ok: false, reason: `signed header ${name} is missing` };
    canonicalHeaders.push(`${name}:${values.map((v) => v.trim().replace(/ +/g, ' ')).join(',')}\n`);
  }
  const queryAt = request.url.indexOf('?');
  const rawPath = queryAt === -1 ? request.url : request.url.slice(0, queryAt);
  const rawQuery = queryAt === -1 ? '' : request.url.slice(queryAt + 1);
  const payloadHash = headers.get('x-amz-content-sha256')?.[0] ?? sha256(request.body ?? Buffer.alloc(0));
  const canonicalRequest = [
    request.method,
    canonicalUri(rawPath, service),
    canonicalQuery(rawQuery),
    canonicalHeaders.join(''),
    signedHeaderList,
    payloadHash,
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  const expected = createHmac('sha256', key).update(stringToSign, 'utf8').digest();
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'SignatureDoesNotMatch', canonicalRequest };
  }
  return { ok: true, accessKeyId, region, service, signedHeaders };
}
