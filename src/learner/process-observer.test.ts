import { describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { descendantsOf, readProcTable } from '../util/proc-tree.ts';
import { TerraformObserver, type ObservedTerraform } from './process-observer.ts';

const SHELL = realpathSync('/bin/sh');

// The observer is tested on /bin/sleep standing in for terraform: what it
// checks (the program behind /proc/PID/exe, its argv and environment) does not
// depend on which program it is.
const BINARY = '/bin/sleep';

describe('the process table', () => {
  test('each entry carries its start time: the same process reads the same, a later child starts no earlier', async () => {
    const child = spawn('sleep', ['5'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => child.once('spawn', resolve));
      const self = readProcTable().find((entry) => entry.pid === process.pid);
      const again = readProcTable().find((entry) => entry.pid === process.pid);
      const mine = descendantsOf(process.pid).find((entry) => entry.pid === child.pid);
      expect(self?.start).toBeGreaterThan(0);
      expect(again?.start).toBe(self?.start);
      expect(mine?.start).toBeGreaterThanOrEqual(self?.start ?? Infinity);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('the terraform observer', () => {
  test.each([
    ['the process tree', false],
    ['a member list (as a control group gives)', true],
  ])('watching %s: a process caught inside execve is read again, never remembered with empty arguments', async (_how, byMembers) => {
    // 200 execs of the binary in a row, watched by a tight loop of ticks: about 1 look in 3 at a fresh exec finds
    // /proc/PID/exe already the new program while cmdline and environ are still empty (measured on kernel 6.18).
    const script = `for i in $(seq 200); do TF_CLI_ARGS_apply=-lock-timeout=1s ${BINARY} 0.01; done`;
    const shell = spawn('bash', ['-c', script], { stdio: 'ignore' });
    const exited = new Promise((resolve) => shell.once('exit', resolve));
    let done = false;
    void exited.then(() => (done = true));
    const members = byMembers ? () => descendantsOf(shell.pid ?? 0).map((entry) => entry.pid) : undefined;
    const observer = new TerraformObserver(shell.pid ?? 0, BINARY, members);
    const aliveSeen: string[][] = [];
    try {
      while (!done) {
        for (const alive of observer.tick()) aliveSeen.push(alive.args);
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      shell.kill('SIGKILL');
    }
    const observed = observer.stop();
    expect(observed.length).toBeGreaterThan(10);
    expect(observed.filter((entry) => entry.args.join(' ') !== '0.01')).toEqual([]);
    expect(observed.filter((entry) => entry.tf_cli_args['TF_CLI_ARGS_apply'] !== '-lock-timeout=1s')).toEqual([]);
    expect(aliveSeen.filter((args) => args.join(' ') !== '0.01')).toEqual([]);
  }, 60_000);

  test('a process started with no environment is still observed (on the second look)', async () => {
    const shell = spawn('bash', ['-c', `env -i ${BINARY} 2; true`], { stdio: 'ignore' });
    const observer = new TerraformObserver(shell.pid ?? 0, BINARY);
    try {
      const deadline = Date.now() + 3_000;
      while (observer.observed.length === 0 && Date.now() < deadline) {
        observer.tick();
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(observer.observed.map((entry) => ({ args: entry.args, tf_cli_args: entry.tf_cli_args }))).toEqual([{ args: ['2'], tf_cli_args: {} }]);
    } finally {
      observer.stop();
      shell.kill('SIGKILL');
    }
  });
});

describe('the configuration watch', () => {
  // A script that freezes a fresh apply, lets the grader look, then drops in an override file and lets it go:
  // the snapshot shows the lab's configuration; the watch, started before the snapshot, sees the override.
  test('an override file created after the first look, while the process runs, is named; an ordinary .tf file is not', async () => {
    const dir = mkdtempSync(path.join(process.env.TMPDIR ?? tmpdir(), 'config-watch-'));
    writeFileSync(path.join(dir, 'main.tf'), 'resource "terraform_data" "d" {}\n');
    // dash stands in for terraform here: "dash apply" runs the script file named apply (a sleep), and its argv reads
    // as an apply to the observer.
    writeFileSync(path.join(dir, 'apply'), 'sleep 5\n');
    const child = spawn(SHELL, ['apply'], { cwd: dir, stdio: 'ignore' });
    await once(child, 'spawn');
    const observer = new TerraformObserver(process.pid, SHELL);
    try {
      let entry: ObservedTerraform | undefined;
      for (let look = 0; look < 500 && entry === undefined; look += 1) {
        entry = observer.tick().find((alive) => alive.pid === child.pid);
        if (entry === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(entry?.config).toEqual([{ dir, files: { 'main.tf': expect.any(String) } }]);
      writeFileSync(path.join(dir, 'zz_override.tf'), 'resource "terraform_data" "d" {}\n');
      writeFileSync(path.join(dir, 'outputs.tf'), 'output "x" { value = 1 }\n');
      for (let look = 0; look < 500 && (entry?.configChanged ?? []).length === 0; look += 1) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(entry?.configChanged).toEqual([`${dir}/zz_override.tf`]);
    } finally {
      child.kill('SIGKILL');
      observer.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the environment of a deploy step', () => {
  test('BASH_ENV and exported functions of a terraform process are kept; other variables are not', async () => {
    const dir = mkdtempSync(path.join(process.env.TMPDIR ?? tmpdir(), 'deploy-env-'));
    writeFileSync(path.join(dir, 'apply'), 'sleep 5\n');
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', BASH_ENV: '/tmp/skip-deploy.sh', 'BASH_FUNC_echo%%': '() {  :\n}', HOME: '/nowhere' };
    const child = spawn(SHELL, ['apply'], { cwd: dir, stdio: 'ignore', env });
    await once(child, 'spawn');
    const observer = new TerraformObserver(process.pid, SHELL);
    try {
      let entry: ObservedTerraform | undefined;
      for (let look = 0; look < 500 && entry === undefined; look += 1) {
        entry = observer.tick().find((alive) => alive.pid === child.pid);
        if (entry === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(entry?.deployEnv).toEqual({ BASH_ENV: '/tmp/skip-deploy.sh', 'BASH_FUNC_echo%%': '() {  :\n}' });
    } finally {
      child.kill('SIGKILL');
      observer.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
