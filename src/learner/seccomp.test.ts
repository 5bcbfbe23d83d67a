import { describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { describeUnrunnable } from '../../test/support/ci.ts';
import { bubblewrapArgs } from './sandbox.ts';
import { refusedSyscalls, seccompInstructions, seccompProgram } from './seccomp.ts';

describe('the seccomp program', () => {
  test('x86_64: native ABI only (x32 and 32-bit refused), then ptrace, process_vm_readv/writev and pidfd_getfd refused', () => {
    expect(seccompInstructions('x64')).toEqual([
      [0x20, 0, 0, 4],
      [0x15, 0, 7, 0xc000003e],
      [0x20, 0, 0, 0],
      [0x45, 5, 0, 0x40000000],
      [0x15, 4, 0, 101],
      [0x15, 3, 0, 310],
      [0x15, 2, 0, 311],
      [0x15, 1, 0, 438],
      [0x06, 0, 0, 0x7fff0000],
      [0x06, 0, 0, 0x00050001],
    ]);
    expect(seccompProgram('x64')).toHaveLength(10 * 8);
  });

  test('aarch64 has its own numbers; other architectures get no filter', () => {
    expect(seccompInstructions('arm64')?.slice(3, 7).map((i) => i[3])).toEqual([117, 270, 271, 438]);
    expect(seccompProgram('ia32')).toBeUndefined();
  });

  test('bwrap is told to read it', () => {
    expect(bubblewrapArgs({ hidden: [], readable: [], writable: [], seccompFd: 9 }, '/w', ['true']).join(' ')).toContain('--seccomp 9 --');
  });
});

/** A bash script in a sandbox with nothing hidden or writable: its exit code and standard output. */
async function inPlainSandbox(script: string): Promise<{ code: number | null; stdout: string }> {
  const args = bubblewrapArgs({ hidden: [], readable: [], writable: [] }, '/', ['/bin/bash', '-c', script]);
  const child = spawn('bwrap', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout };
}

// The filter in a real sandbox: the refused calls fail with EPERM. Called with a first argument of 16
// (PTRACE_ATTACH of pid 0, pid 16, fd 16), each fails otherwise with another error (ESRCH, EINVAL, EBADF).
const python = ['/usr/bin/python3', '/usr/local/bin/python3'].find((candidate) => existsSync(candidate));
const numbers = refusedSyscalls();
const probe = `import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
out = []
for nr in map(int, sys.argv[1:]):
    ret = libc.syscall(nr, 16, 0, 0, 0, 0)
    out.append(ctypes.get_errno() if ret < 0 else 0)
print(' '.join(map(str, out)))`;

async function runProbe(withFilter: boolean): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const args = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--unshare-pid', '--die-with-parent', ...(withFilter ? ['--seccomp', '9'] : []), '--', python!, '-c', probe, ...numbers!.map(String)];
  const child = spawn('bwrap', args, { stdio: ['ignore', 'pipe', 'pipe', 'ignore', 'ignore', 'ignore', 'ignore', 'ignore', 'ignore', 'pipe'] });
  if (withFilter) (child.stdio as unknown as Writable[])[9]!.end(seccompProgram());
  else (child.stdio as unknown as Writable[])[9]!.end();
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr };
}

const bwrapWorks = await new Promise<boolean>((resolve) => {
  const child = spawn('bwrap', ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--unshare-pid', '/bin/true'], { stdio: 'ignore' });
  child.on('error', () => resolve(false));
  child.on('close', (code) => resolve(code === 0));
});
if (!bwrapWorks || !python || !numbers) {
  describeUnrunnable('the seccomp filter in bwrap', !bwrapWorks ? 'bwrap cannot run here' : !python ? 'no python3 to make raw syscalls' : `no filter for ${process.arch}`);
} else {
  describe('the seccomp filter in bwrap', () => {
    test('ptrace, process_vm_readv/writev and pidfd_getfd fail with EPERM (1) inside; without the filter none does', async () => {
      const filtered = await runProbe(true);
      expect(filtered).toMatchObject({ code: 0, stdout: '1 1 1 1\n' });
      const open = await runProbe(false);
      expect(open.code).toBe(0);
      expect(open.stdout.trim().split(' ')).not.toContain('1');
    });

    test('the sandbox\'s /proc is read-only: another process\'s /proc/PID/mem cannot be opened for writing, nor read-only files written', async () => {
      const script = `sleep 5 & p=$!; ${python} -c 'import sys
for path in ("/proc/%s/mem" % sys.argv[1], "/proc/self/oom_score_adj"):
    try:
        open(path, "r+b"); print("opened")
    except OSError as error:
        print(error.errno)' "$p"; kill "$p"`;
      const { code, stdout } = await inPlainSandbox(script);
      // 30: EROFS
      expect({ code, stdout }).toEqual({ code: 0, stdout: '30\n30\n' });
    });

    test('the script has no capabilities: root\'s would let it remount / or /proc read-write and mount file systems (hostile fixture sandbox-privileges)', async () => {
      const script = `grep '^CapEff' /proc/self/status
mount -o remount,bind,rw / 2>/dev/null && echo remounted-root
mount -o remount,rw /proc 2>/dev/null && echo remounted-proc
mount -t tmpfs none /mnt 2>/dev/null && echo mounted
exit 0`;
      const { code, stdout } = await inPlainSandbox(script);
      expect({ code, stdout }).toEqual({ code: 0, stdout: 'CapEff:\t0000000000000000\n' });
    });
  });
}
