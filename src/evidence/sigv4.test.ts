import { describe, expect, test } from '@jest/globals';
import { createHash, createHmac } from 'node:crypto';
import { canonicalQuery, canonicalUri, verifySigV4, type SignedRequest } from './sigv4.ts';

// Two worked examples from AWS's SigV4 documentation (IAM ListUsers; S3 GET
// Object with a Range header), with their published signatures.
const IAM_EXAMPLE: SignedRequest = {
  method: 'GET',
  url: '/?Action=ListUsers&Version=2010-05-08',
  rawHeaders: [
    'Host', 'iam.amazonaws.com',
    'Content-Type', 'application/x-www-form-urlencoded; charset=utf-8',
    'X-Amz-Date', '20150830T123600Z',
    'Authorization', 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
  ],
};
const S3_EXAMPLE: SignedRequest = {
  method: 'GET',
  url: '/test.txt',
  rawHeaders: [
    'Host', 'examplebucket.s3.amazonaws.com',
    'Range', 'bytes=0-9',
    'x-amz-content-sha256', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    'x-amz-date', '20130524T000000Z',
    'Authorization', 'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
  ],
};
const secrets: Record<string, string> = {
  AKIDEXAMPLE: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  AKIAIOSFODNN7EXAMPLE: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
const secretFor = (id: string) => secrets[id];

function withHeader(request: SignedRequest, name: string, value: string): SignedRequest {
  const raw = [...request.rawHeaders];
  const at = raw.findIndex((h, i) => i % 2 === 0 && h.toLowerCase() === name.toLowerCase());
  raw[at + 1] = value;
  return { ...request, rawHeaders: raw };
}

describe('verifySigV4', () => {
  test.each([
    ['the IAM example', IAM_EXAMPLE, 'iam'],
    ['the S3 example', S3_EXAMPLE, 's3'],
  ])('accepts %s', (_name, request, service) => {
    expect(verifySigV4(request, secretFor)).toMatchObject({ ok: true, service, region: 'us-east-1' });
  });

  test.each([
    ['a rewritten Host', withHeader(S3_EXAMPLE, 'host', '127.0.0.1:4566'), 'SignatureDoesNotMatch'],
    ['another range', withHeader(S3_EXAMPLE, 'range', 'bytes=0-10'), 'SignatureDoesNotMatch'],
    ['another path', { ...S3_EXAMPLE, url: '/test2.txt' }, 'SignatureDoesNotMatch'],
    ['another query', { ...IAM_EXAMPLE, url: '/?Action=ListUsers&Version=2010-05-09' }, 'SignatureDoesNotMatch'],
    ['another method', { ...S3_EXAMPLE, method: 'HEAD' }, 'SignatureDoesNotMatch'],
    ['a missing signed header', { ...S3_EXAMPLE, rawHeaders: S3_EXAMPLE.rawHeaders.slice(4) }, 'signed header host is missing'],
    ['an unknown key', withHeader(S3_EXAMPLE, 'authorization', (S3_EXAMPLE.rawHeaders[9] ?? '').replace('AKIAIOSFODNN7EXAMPLE', 'NOBODY')), 'unknown access key NOBODY'],
    ['no Authorization', { ...S3_EXAMPLE, rawHeaders: S3_EXAMPLE.rawHeaders.slice(0, 8) }, 'no Authorization header'],
  ])('refuses %s', (_name, request, reason) => {
    expect(verifySigV4(request, secretFor)).toMatchObject({ ok: false, reason });
  });

  test('hashes the body when there is no x-amz-content-sha256 (the DynamoDB case), so a changed body is caught', () => {
    const body = Buffer.from('{"TableName":"t"}');
    const base = ['Host', '127.0.0.1:8000', 'X-Amz-Date', '20260101T000000Z', 'X-Amz-Target', 'DynamoDB_20120810.Scan'];
    const authorization = (signature: string) =>
      `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=${signature}`;
    const unsigned = verifySigV4({ method: 'POST', url: '/', rawHeaders: [...base, 'Authorization', authorization('0'.repeat(64))], body }, secretFor);
    const canonical = unsigned.ok ? '' : (unsigned.canonicalRequest ?? '');
    expect(canonical).toBe(
      `POST\n/\n\nhost:127.0.0.1:8000\nx-amz-date:20260101T000000Z\nx-amz-target:DynamoDB_20120810.Scan\n\nhost;x-amz-date;x-amz-target\n${createHash('sha256').update(body).digest('hex')}`,
    );
    // Sign that canonical request independently (the SigV4 key derivation), then verify.
    const h = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
    const key = h(h(h(h('AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20260101'), 'us-east-1'), 'dynamodb'), 'aws4_request');
    const stringToSign = `AWS4-HMAC-SHA256\n20260101T000000Z\n20260101/us-east-1/dynamodb/aws4_request\n${createHash('sha256').update(canonical).digest('hex')}`;
    const signed = [...base, 'Authorization', authorization(createHmac('sha256', key).update(stringToSign).digest('hex'))];
    expect(verifySigV4({ method: 'POST', url: '/', rawHeaders: signed, body }, secretFor)).toMatchObject({ ok: true, service: 'dynamodb' });
    expect(verifySigV4({ method: 'POST', url: '/', rawHeaders: signed, body: Buffer.from('{"TableName":"u"}') }, secretFor)).toMatchObject({ ok: false, reason: 'SignatureDoesNotMatch' });
  });
});

describe('canonical parts', () => {
  test.each([
    ['', ''],
    ['list-type=2&prefix=env%3A%2F', 'list-type=2&prefix=env%3A%2F'],
    ['prefix=a b&delimiter=/', 'delimiter=%2F&prefix=a%20b'],
    ['delete', 'delete='],
    ['b=2&a=1&a=0', 'a=0&a=1&b=2'],
    ['x=%7E*', 'x=~%2A'],
  ])('query %j → %j', (raw, canonical) => {
    expect(canonicalQuery(raw)).toBe(canonical);
  });

  test.each([
    ['/b/env%3A/k', 's3', '/b/env%3A/k'],
    ['', 's3', '/'],
    ['/', 'dynamodb', '/'],
    ['/a%20b', 'dynamodb', '/a%2520b'],
  ])('uri %j (%s) → %j', (raw, service, canonical) => {
    expect(canonicalUri(raw, service)).toBe(canonical);
  });
});
