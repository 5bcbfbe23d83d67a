import { afterAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { configFiles, sha256, snapshotConfig } from './config-snapshot.ts';

const root = mkdtempSync(path.join(tmpdir(), 'config-snapshot-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('config snapshots', () => {
  test('configFiles keeps *.tf, *.tf.json, *.tofu and *.tofu.json by content hash, nothing else', () => {
    const dir = path.join(root, 'a');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'main.tf'), 'resource "x" "y" {}\n');
    writeFileSync(path.join(dir, 'zz_override.tf.json'), '{}');
    writeFileSync(path.join(dir, 'terraform.tfvars'), 'release = "v2"\n');
    // OpenTofu's own names are configuration too (c2-cheat-tofu-override-file)
    writeFileSync(path.join(dir, 'zz_override.tofu'), 'tofu');
    writeFileSync(path.join(dir, 'main.tofu.json'), '[]');
    expect(configFiles(dir)).toEqual({ 'main.tf': sha256('resource "x" "y" {}\n'), 'zz_override.tf.json': sha256('{}'), 'zz_override.tofu': sha256('tofu'), 'main.tofu.json': sha256('[]') });
    expect(configFiles(path.join(root, 'missing'))).toEqual({});
  });

  test('a live process: its cwd (read through /proc/<pid>/root) and cwd + -chdir; a directory without .tf files is left out', async () => {
    const cwd = path.join(root, 'cwd');
    const sub = path.join(cwd, 'sub');
    mkdirSync(sub, { recursive: true });
    writeFileSync(path.join(cwd, 'main.tf'), 'one');
    writeFileSync(path.join(sub, 'main.tf'), 'two');
    const child = spawn('sleep', ['30'], { cwd, stdio: 'ignore' });
    try {
      await new Promise((resolve) => child.once('spawn', resolve));
      const pid = child.pid ?? 0;
      expect(snapshotConfig(pid, 'sub')).toEqual([
        { dir: cwd, files: { 'main.tf': sha256('one') } },
        { dir: sub, files: { 'main.tf': sha256('two') } },
      ]);
      expect(snapshotConfig(pid, 'nothing-here')).toEqual([{ dir: cwd, files: { 'main.tf': sha256('one') } }]);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
