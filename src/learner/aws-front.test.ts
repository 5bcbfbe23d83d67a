// The `aws` front around a fake CLI (a script that prints its arguments): the
// --endpoint-url it adds for each service, where it puts it, and when it adds none.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execa } from 'execa';
import { awsHomeFiles, writeAwsFront, writeAwsHomeFiles, writeAwsMissingStub } from './aws-front.ts';

let dir: string;
let front: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'lockgrader-aws-front-test-'));
  const fake = path.join(dir, "fake aws's real");
  // One argument a line, then the exit code asked for.
  await writeFile(fake, '#!/bin/bash\nfor a in "$@"; do printf "%s\\n" "$a"; done\nexit "${EXIT:-0}"\n');
  await chmod(fake, 0o755);
  front = await writeAwsFront(dir, fake);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const endpoints = { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9001', AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9002' };

async function argsSeen(args: string[], env: Record<string, string> = endpoints): Promise<string[]> {
  const run = await execa(front, args, { env: { PATH: '/usr/bin:/bin', ...env }, extendEnv: false });
  return run.stdout === '' ? [] : run.stdout.split('\n');
}

describe('aws front', () => {
  test('adds the service endpoint before the service word', async () => {
    expect(await argsSeen(['dynamodb', 'scan', '--table-name', 'T'])).toEqual(['--endpoint-url', 'http://127.0.0.1:9002', 'dynamodb', 'scan', '--table-name', 'T']);
    expect(await argsSeen(['s3', 'ls', 's3://b/'])).toEqual(['--endpoint-url', 'http://127.0.0.1:9001', 's3', 'ls', 's3://b/']);
    expect(await argsSeen(['s3api', 'get-object', '--bucket', 'b', '--key', 'k', 'out'])).toEqual([
      '--endpoint-url',
      'http://127.0.0.1:9001',
      's3api',
      'get-object',
      '--bucket',
      'b',
      '--key',
      'k',
      'out',
    ]);
  });

  test('skips global options (and their values) placed before the service', async () => {
    const args = ['--region', 'dynamodb', '--output', 'json', '--no-cli-pager', '--profile', 's3', '--debug', '--color=off', 'dynamodb', 'get-item', '--key', '{"LockID":{"S":"x"}}'];
    expect(await argsSeen(args)).toEqual([...args.slice(0, 9), '--endpoint-url', 'http://127.0.0.1:9002', ...args.slice(9)]);
    const s3 = ['--query', 'Contents[].Key', '--cli-read-timeout', '5', '--cli-binary-format', 'raw-in-base64-out', 's3api', 'list-objects-v2'];
    expect(await argsSeen(s3)).toEqual([...s3.slice(0, 6), '--endpoint-url', 'http://127.0.0.1:9001', ...s3.slice(6)]);
  });

  test('an --endpoint-url on the command line wins, in either form and anywhere', async () => {
    for (const args of [
      ['--endpoint-url', 'http://other:1', 'dynamodb', 'scan'],
      ['dynamodb', 'scan', '--endpoint-url=http://other:1'],
      ['s3', 'ls', '--endpoint-url', 'http://other:1'],
    ]) {
      expect(await argsSeen(args)).toEqual(args);
    }
  });

  test('other services use AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL; no variable, no change', async () => {
    expect(await argsSeen(['sts', 'get-caller-identity'], { ...endpoints, AWS_ENDPOINT_URL: 'http://one:4566' })).toEqual([
      '--endpoint-url',
      'http://one:4566',
      'sts',
      'get-caller-identity',
    ]);
    expect(await argsSeen(['sts', 'get-caller-identity'], { AWS_ENDPOINT_URL_STS: 'http://sts:1', AWS_ENDPOINT_URL: 'http://one:4566' })).toEqual([
      '--endpoint-url',
      'http://sts:1',
      'sts',
      'get-caller-identity',
    ]);
    expect(await argsSeen(['s3', 'ls'], { AWS_ENDPOINT_URL: 'http://one:4566' })).toEqual(['--endpoint-url', 'http://one:4566', 's3', 'ls']);
    expect(await argsSeen(['sts', 'get-caller-identity'])).toEqual(['sts', 'get-caller-identity']);
    expect(await argsSeen(['dynamodb', 'scan'], {})).toEqual(['dynamodb', 'scan']);
    expect(await argsSeen(['dynamodb', 'scan'], { ...endpoints, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' })).toEqual(['dynamodb', 'scan']);
  });

  test('commands without a service, help and configure are passed as they are', async () => {
    for (const args of [['--version'], [], ['help'], ['configure', 'list'], ['--region', 'x']]) expect(await argsSeen(args)).toEqual(args);
  });

  test('awkward arguments pass unchanged and the exit code is the CLI’s own', async () => {
    const args = ['s3', 'cp', '-', 's3://b/a key with "quotes" and \\', '', 'tab\there', 'ünïcödé'];
    expect(await argsSeen(args)).toEqual(['--endpoint-url', 'http://127.0.0.1:9001', ...args]);
    const failing = await execa(front, ['dynamodb', 'scan'], { env: { ...endpoints, EXIT: '254' }, reject: false });
    expect(failing.exitCode).toBe(254);
  });

  test('the missing-CLI stub refuses with 127 and says why', async () => {
    const stubDir = await mkdtemp(path.join(dir, 'stub-'));
    const stub = await writeAwsMissingStub(stubDir);
    const run = await execa(stub, ['s3', 'ls'], { reject: false });
    expect(run.exitCode).toBe(127);
    expect(run.stderr).toMatch(/no AWS CLI v2.*v1 is never given/);
  });

  test('HOME gets a config with path-style S3 addressing and no pager', async () => {
    const home = await mkdtemp(path.join(dir, 'home-'));
    await writeAwsHomeFiles(home);
    const config = await readFile(path.join(home, '.aws', 'config'), 'utf8');
    expect(config).toBe(awsHomeFiles()['.aws/config']);
    expect(config).toMatch(/^\[default\]\n(.*\n)*s3 =\n\s+addressing_style = path\n/);
    expect(config).toMatch(/^cli_pager =$/m);
  });
});
