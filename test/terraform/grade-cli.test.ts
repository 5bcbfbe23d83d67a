// `lockgrader grade` end to end: exit codes, the results file and the JUnit
// report (read back with an XML parser, as a JUnit consumer would).
import { readdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { XMLParser } from 'fast-xml-parser';
import type { GradeResult } from '../../src/grading/types.ts';
import { repoPath } from '../../src/paths.ts';
import { runCli } from '../support/cli.ts';

let out: string;
beforeAll(async () => {
  out = await mkdtemp(path.join(tmpdir(), 'lockgrader-cli-test-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe('grade the reference, challenge 1', () => {
  let run: Awaited<ReturnType<typeof runCli>>;
  let result: GradeResult;
  beforeAll(async () => {
    run = await runCli(['grade', repoPath('fixtures/submissions/reference'), '--challenges', '1', '--json', path.join(out, 'r.json'), '--junit', path.join(out, 'j.xml'), '--gradescope', path.join(out, 'gs.json')]);
    result = JSON.parse(await readFile(path.join(out, 'r.json'), 'utf8')) as GradeResult;
  }, 300_000);

  test('exits 0 with every c1 check pass and the rest skipped', () => {
    expect(run.exitCode).toBe(0);
    expect(result.status).toBe('graded');
    expect(result.checks.filter((c) => c.challenge === 1).map((c) => c.status)).toEqual(['pass', 'pass', 'pass', 'pass']);
    expect(result.checks.filter((c) => c.challenge !== 1).every((c) => c.status === 'skipped')).toBe(true);
    expect(result.score).toBe(20);
    expect(result.max_score).toBe(20);
    expect(result.checks.map((c) => c.id)[0]).toBe('c1.replay.contention');
    expect(result.checks).toHaveLength(17);
    expect(['terraform', 'tofu']).toContain(result.environment.terraform.binary);
    expect(result.environment.backend).toBe('embedded');
  });

  test('the JUnit file parses: one testsuite per challenge, one testcase per check', async () => {
    const xml = await readFile(path.join(out, 'j.xml'), 'utf8');
    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' }).parse(xml) as {
      testsuites: { testsuite: Array<{ '@name': string; testcase: Array<{ '@name': string; '@classname': string; skipped?: unknown; failure?: unknown }> }> };
    };
    const suites = parsed.testsuites.testsuite;
    expect(suites.map((s) => s['@name'])).toEqual(['challenge 1', 'challenge 2', 'challenge 3']);
    expect(suites[0]?.testcase.map((c) => c['@name'])).toEqual(['c1.replay.contention', 'c1.lock-id', 'c1.holder', 'c1.operation']);
    expect(suites[0]?.testcase.some((c) => c.failure !== undefined)).toBe(false);
    expect(suites[1]?.testcase.every((c) => c.skipped !== undefined)).toBe(true);
  });

  test('the Gradescope file carries score and the asked checks only', async () => {
    const gs = JSON.parse(await readFile(path.join(out, 'gs.json'), 'utf8')) as { score: number; tests: Array<{ name: string; status: string }> };
    expect(gs.score).toBe(20);
    expect(gs.tests.map((t) => t.name)).toEqual(['c1.replay.contention', 'c1.lock-id', 'c1.holder', 'c1.operation']);
    expect(gs.tests.every((t) => t.status === 'passed')).toBe(true);
  });
});

describe('exit codes', () => {
  test('a missing submission is a usage error (2)', async () => {
    const run = await runCli(['grade', path.join(out, 'no-such-folder')]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('does not exist');
  });

  test('a file instead of a folder is exit 2', async () => {
    const run = await runCli(['grade', repoPath('README.md')]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('not a folder');
  });

  test('an unknown challenge is exit 2', async () => {
    const run = await runCli(['grade', repoPath('fixtures/submissions/reference'), '--challenges', '4']);
    expect(run.exitCode).toBe(2);
  });

  test('below --fail-under is exit 1, with the results still written', async () => {
    const json = path.join(out, 'low.json');
    const run = await runCli(['grade', repoPath('fixtures/submissions/c1-missing'), '--challenges', '1', '--fail-under', '10', '--json', json]);
    expect(run.exitCode).toBe(1);
    const result = JSON.parse(await readFile(json, 'utf8')) as GradeResult;
    expect(result.score).toBe(0);
    expect(result.checks.find((c) => c.id === 'c1.lock-id')?.feedback).toContain('challenge1/identify.sh is missing');
  }, 300_000);
});

describe('--keep', () => {
  test('keeps the grading folder and prints its path', async () => {
    const run = await runCli(['grade', repoPath('fixtures/submissions/c1-missing'), '--challenges', '1', '--keep', '--quiet']);
    expect(run.exitCode).toBe(0);
    const kept = /kept the grading's folder.*: (\S+)/.exec(run.stderr)?.[1];
    expect(kept).toBeDefined();
    // The submission copy and the challenge's folder (workspace, learner copy) are kept; no context file exists any more.
    expect(await readdir(path.join(kept!, 'submission'))).toContain('expected.json');
    expect((await readdir(kept!)).some((name) => name.startsWith('c1-'))).toBe(true);
    await rm(kept!, { recursive: true, force: true });
  }, 300_000);
});

describe('doctor', () => {
  test('--json names the terraform binary, every backend with a reason, and the sandbox', async () => {
    const run = await runCli(['doctor', '--json']);
    expect(run.exitCode).toBe(0);
    const report = JSON.parse(run.stdout) as {
      terraform: { found: boolean; binary: string; flavour: string; version: string };
      terraform_binaries: Array<{ path: string; version?: string; lab_variants: string[]; selected: boolean }>;
      backends: Array<{ kind: string; available: boolean; reason: string }>;
      sandbox: string;
    };
    expect(report.terraform.found).toBe(true);
    expect(['terraform', 'tofu']).toContain(report.terraform.flavour);
    expect(report.terraform.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(report.terraform_binaries.filter((binary) => binary.selected)).toEqual([
      expect.objectContaining({ path: report.terraform.binary, version: report.terraform.version, lab_variants: expect.arrayContaining(['dynamodb']) }),
    ]);
    expect(report.backends.map((b) => b.kind)).toEqual(['embedded', 'moto', 'localstack', 'endpoint']);
    expect(report.backends[0]?.available).toBe(true);
    for (const backend of report.backends) expect(backend.reason.length).toBeGreaterThan(0);
    expect(report.sandbox).toMatch(/bubblewrap|none/);
  }, 120_000);
});

describe('sandbox by default', () => {
  test('a machine without a sandbox refuses to grade; --no-sandbox grades and the results say so', async () => {
    const out = await mkdtemp(path.join(tmpdir(), 'lockgrader-nosandbox-test-'));
    try {
      const env = { LOCKGRADER_BWRAP: '/nonexistent/bwrap' };
      const refused = await runCli(['grade', repoPath('fixtures/submissions/reference'), '--challenges', '1', '--quiet'], { env });
      expect(refused.exitCode).toBe(3);
      expect(refused.stderr).toMatch(/learner scripts must run in a sandbox and none can run here .*--no-sandbox/s);
      const json = path.join(out, 'results.json');
      const graded = await runCli(['grade', repoPath('fixtures/submissions/reference'), '--challenges', '1', '--quiet', '--no-sandbox', '--json', json], { env });
      expect(graded.exitCode).toBe(0);
      const result = JSON.parse(await readFile(json, 'utf8')) as { environment: { sandbox_kind: string; sandbox: string }; score: number };
      expect(result.environment.sandbox_kind).toBe('none');
      expect(result.environment.sandbox).toMatch(/^none \(--no-sandbox\)/);
      expect(result.score).toBe(20);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 300_000);
});
