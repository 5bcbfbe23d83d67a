import { describe, expect, test } from '@jest/globals';
import { createRequire } from 'node:module';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbeddedBackend, withoutRequestLogger } from './embedded.ts';

const require = createRequire(import.meta.url);

describe("s3rver's request logger", () => {
  test('the installed s3rver puts koa-logger first, and it is dropped; nothing else is', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'embedded-test-'));
    try {
      const S3rver = require('s3rver') as new (options: Record<string, unknown>) => { middleware: Array<{ name?: string }> };
      const app = new S3rver({ port: 0, silent: true, directory });
      const before = app.middleware.map((fn) => fn.name);
      expect(before[0]).toBe('logger');
      expect(withoutRequestLogger(app).middleware.map((fn) => fn.name)).toEqual(before.slice(1));
      // Another layout is left alone.
      const other = { middleware: [{ name: 'cors' }, { name: 'logger' }] };
      expect(withoutRequestLogger(other).middleware).toHaveLength(2);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  test('the embedded S3 still answers without it', async () => {
    const backend = await startEmbeddedBackend();
    try {
      const response = await fetch(`${backend.endpoints.s3}/no-such-bucket/key`);
      // Unsigned, for a bucket that does not exist: S3's NoSuchBucket.
      expect(response.status).toBe(404);
      expect(await response.text()).toContain('NoSuchBucket');
    } finally {
      await backend.stop();
    }
  });
});
