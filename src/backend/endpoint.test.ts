import { describe, expect, test } from '@jest/globals';
import { connectEndpointBackend, parseEndpoints } from './endpoint.ts';

describe('endpoint backend', () => {
  test('one URL serves both services', () => {
    expect(parseEndpoints('http://127.0.0.1:4566/')).toEqual({ s3: 'http://127.0.0.1:4566', dynamodb: 'http://127.0.0.1:4566', single: 'http://127.0.0.1:4566' });
  });
  test('separate services', () => {
    expect(parseEndpoints('s3=http://127.0.0.1:1,dynamodb=http://127.0.0.1:2')).toEqual({ s3: 'http://127.0.0.1:1', dynamodb: 'http://127.0.0.1:2' });
  });
  test('bad input is a usage error', () => {
    expect(() => parseEndpoints('not a url')).toThrow(/not a URL/);
    expect(() => parseEndpoints('s3=http://x')).toThrow(/both/);
    expect(() => connectEndpointBackend(undefined)).toThrow(/needs --endpoint/);
  });
  test('credentials from the environment', () => {
    const backend = connectEndpointBackend('http://127.0.0.1:4566', { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b', AWS_REGION: 'eu-west-1' });
    expect(backend.credentials).toEqual({ accessKeyId: 'a', secretAccessKey: 'b', region: 'eu-west-1' });
  });
});
