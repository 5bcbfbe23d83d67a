// `lockgrader doctor` run as a user would: the learner tools part of its
// report (the JSON keys of the existing report are tested in
// test/terraform/grade-cli.test.ts).
import { describe, expect, test } from '@jest/globals';
import { runCli } from '../../test/support/cli.ts';
import { localstackAvailability } from '../backend/localstack.ts';
import { resolveAwsCliV2 } from '../learner/tools.ts';
import type { DoctorReport } from './doctor.ts';

describe('doctor', () => {
  test('--json reports the AWS CLI learners get (a v2 or none, never a v1), jq and the sandbox tools', async () => {
    const run = await runCli(['doctor', '--json']);
    expect(run.exitCode).toBe(0);
    const report = JSON.parse(run.stdout) as DoctorReport;
    expect(Object.keys(report)).toEqual(expect.arrayContaining(['node', 'terraform', 'backends', 'learner_tools', 'sandbox', 'aws_cli', 'jq', 'sandbox_tools']));
    expect(report.aws_cli.policy).toBe('v1 is never given to learner scripts');
    const v2 = await resolveAwsCliV2();
    if (v2) {
      expect(report.aws_cli).toMatchObject({ path: v2.path, version: v2.version, major: 2 });
      expect(report.learner_tools.aws).toBe(v2.path);
    } else {
      expect(report.aws_cli).toMatchObject({ path: null, version: null, major: null });
      expect(report.learner_tools.aws).toBeNull();
    }
    for (const other of report.aws_cli.not_given) expect(other.major).not.toBe(2);
    if (report.jq.path) expect(report.jq.version).toMatch(/^jq-\d/);
    expect(Object.keys(report.sandbox_tools).sort()).toEqual(['bubblewrap', 'socat']);
  }, 120_000);

  test('text names the aws binary with its major version and the v1 policy', async () => {
    const run = await runCli(['doctor']);
    expect(run.exitCode).toBe(0);
    const aws = run.stdout.split('\n').find((line) => line.startsWith('tool       aws'));
    expect(aws).toMatch(/v1 is never given to learner scripts/);
    if (await resolveAwsCliV2()) expect(aws).toMatch(/AWS CLI 2\.\d+\.\d+, major version 2/);
    expect(run.stdout).toMatch(/^sandbox {4}bwrap .*, socat /m);
  }, 120_000);

  test('--json: the localstack backend ran its self-test (every lab variant, DynamoDB from dynalite and why), or says why it cannot run', async () => {
    const expected = await localstackAvailability();
    const run = await runCli(['doctor', '--json']);
    const entry = (JSON.parse(run.stdout) as DoctorReport).backends.find((backend) => backend.kind === 'localstack');
    if (!expected.available) {
      expect(entry).toMatchObject({ available: false, reason: expected.reason, image: expected.image });
      return;
    }
    expect(entry).toMatchObject({ available: true, image: expected.image, network: expected.network, lab_variants: ['dynamodb', 'lockfile', 'both'] });
    expect(entry?.start_ms).toBeGreaterThan(0);
    expect(entry?.services?.dynamodb).toEqual({ served_by: expect.stringMatching(/^dynalite /), substituted_because: expect.stringMatching(/DynamoDB Local/) });
    expect(entry?.reason).toMatch(/^LocalStack \S+ S3 .* started in [\d.]+ ms; DynamoDB from dynalite/);
  }, 180_000);
});
