// No LocalStack container outlives a grading: an interrupted `lockgrader grade`
// (SIGTERM) removes its container on the way out, and one a killed process
// (SIGKILL) could not remove is removed by the next start's orphan sweep.
// Runs where the localstack backend can (skipped with the reason elsewhere,
// failing in CI).
import { expect, test } from '@jest/globals';
import { execa, type ResultPromise } from 'execa';
import { CONTAINER_LABELS, connectEngine, removeOrphanedContainers, type ContainerEngine } from '../../src/backend/container-engine.ts';
import { localstackAvailability } from '../../src/backend/localstack.ts';
import { lockgraderCommand } from '../../src/cli-command.ts';
import { repoPath } from '../../src/paths.ts';
import { waitFor } from '../../src/util/wait.ts';
import { describeUnrunnable } from '../support/ci.ts';

const availability = await localstackAvailability();

async function containersOf(engine: ContainerEngine, pid: number): Promise<string[]> {
  const listed = await engine.client.container.dockerode.listContainers({ all: true, filters: { label: [`${CONTAINER_LABELS.ownerPid}=${pid}`] } });
  return listed.filter((container) => container.Labels[CONTAINER_LABELS.backend] === 'localstack').map((container) => container.Id);
}

// Waits until the child owns a LocalStack container (it has started one), or ends.
async function untilContainerOf(engine: ContainerEngine, child: ResultPromise): Promise<string[]> {
  let exited = false;
  void child.finally(() => (exited = true)).catch(() => undefined);
  let found: string[] = [];
  await waitFor(async () => (exited || (found = await containersOf(engine, child.pid as number)).length > 0 ? true : undefined), { timeoutMs: 180_000, intervalMs: 100, what: 'the child to start its LocalStack container' });
  expect(exited).toBe(false);
  return found;
}

if (!availability.available) {
  describeUnrunnable('localstack container lifecycle', availability.reason);
} else {
  test('a grading interrupted by SIGTERM removes its LocalStack container before it exits', async () => {
    const engine = await connectEngine();
    const child = execa(...lockgraderCommand(['grade', repoPath('fixtures/submissions/reference'), '--backend', 'localstack', '--challenges', '2', '--quiet']), {
      cwd: repoPath(),
      reject: false,
    });
    const started = await untilContainerOf(engine, child);
    expect(started).toHaveLength(1);
    child.kill('SIGTERM');
    const result = await child;
    expect({ exitCode: result.exitCode, signal: result.signal }).toEqual({ exitCode: 143, signal: undefined });
    expect(result.stderr).toMatch(/SIGTERM, ended \d+ running process\(es\), ran \d+ clean-up\(s\)/);
    expect(await containersOf(engine, child.pid as number)).toEqual([]);
  }, 300_000);

  test("a process killed with SIGKILL leaves its container; the next start's sweep removes it (its owner is gone)", async () => {
    const engine = await connectEngine();
    const script = `const { startLocalstackBackend } = await import(${JSON.stringify(repoPath('src/backend/localstack.ts'))}); await startLocalstackBackend(); setInterval(() => undefined, 60_000);`;
    const child = execa(process.execPath, ['--input-type=module', '-e', script], { cwd: repoPath(), reject: false });
    const left = await untilContainerOf(engine, child);
    child.kill('SIGKILL');
    await child;
    expect(await containersOf(engine, child.pid as number)).toEqual(left);
    expect(await removeOrphanedContainers(engine, 'localstack')).toBeGreaterThanOrEqual(1);
    expect(await containersOf(engine, child.pid as number)).toEqual([]);
  }, 300_000);
}
