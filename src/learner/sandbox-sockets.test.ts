import { describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { RunSockets, UnixPeerSnapshots } from './sandbox-sockets.ts';

/** A fake `ss`: each call answers with what the kernel "has" when it is called, after `gate` opens. */
function fakeSs() {
  const kernel = new Map<number, number>();
  const calls: number[] = [];
  let release: (() => void) | undefined;
  let gate: Promise<void> = Promise.resolve();
  return {
    kernel,
    calls,
    hold() {
      gate = new Promise((resolve) => (release = resolve));
    },
    open() {
      release?.();
    },
    query: async (netPid: number) => {
      calls.push(netPid);
      const seen = new Map(kernel);
      await gate;
      return seen;
    },
  };
}

describe('unix peers from shared ss snapshots', () => {
  test('a snapshot that shows a socket answers for it; one that does not is followed by a new one', async () => {
    const ss = fakeSs();
    const peers = new UnixPeerSnapshots(ss.query);
    ss.kernel.set(10, 11);
    expect(await peers.peerOf(10, 7)).toBe(11);
    expect(await peers.peerOf(10, 7)).toBe(11);
    expect(ss.calls).toEqual([7]);
    ss.kernel.set(20, 21);
    expect(await peers.peerOf(20, 7)).toBe(21);
    expect(ss.calls).toEqual([7, 7]);
    expect(await peers.peerOf(99, 7)).toBeUndefined();
    expect(peers.taken).toBe(3);
  });

  test('questions asked while a snapshot runs share it, and one it cannot answer gets a snapshot begun after it was asked', async () => {
    const ss = fakeSs();
    let clock = 0;
    const peers = new UnixPeerSnapshots(ss.query, () => clock);
    ss.kernel.set(1, 2);
    ss.hold();
    const first = peers.peerOf(1, 5);
    clock = 1;
    // Accepted after the running snapshot began: it cannot show it.
    ss.kernel.set(3, 4);
    const second = peers.peerOf(3, 5);
    const third = peers.peerOf(1, 5);
    ss.open();
    expect(await Promise.all([first, second, third])).toEqual([2, 4, 2]);
    expect(ss.calls).toHaveLength(2);
  });

  test('ss failing is not an answer: the question rejects (the trace then says nothing of the sender)', async () => {
    const peers = new UnixPeerSnapshots(() => Promise.reject(new Error('nsenter: not found')));
    await expect(peers.peerOf(1, 5)).rejects.toThrow('nsenter');
    await expect(peers.peerOf(1, 5)).rejects.toThrow('nsenter');
  });
});

describe("a run's processes", () => {
  test("its control group's members when there are any, else the root's descendants", async () => {
    const child = spawn('bash', ['-c', 'sleep 5 & wait'], { stdio: 'ignore' });
    try {
      let group: number[] | undefined = [111, 222];
      const run = new RunSockets(
        () => child.pid,
        () => group,
      );
      expect(run.pids()).toEqual([111, 222]);
      group = [];
      let seen: number[] = [];
      for (let look = 0; look < 200 && seen.length === 0; look += 1) {
        seen = run.pids();
        if (seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(seen).toHaveLength(1);
      expect(new RunSockets(() => undefined).pids()).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('no process of a run in its own network namespace: none is found (and none is remembered)', () => {
    const run = new RunSockets(
      () => process.pid,
      () => [process.pid],
    );
    expect(run.sandboxNetPid()).toBeUndefined();
  });
});
