import { describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { RunSockets } from './sandbox-sockets.ts';

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
