// Stopping a grading with SIGTERM ends every process it started: the learner
// script (even one that loops forever) and terraform.
import { lockgraderCommand } from '../../src/cli-command.ts';
import path from 'node:path';
import { expect, test } from '@jest/globals';
import { execa } from 'execa';
import { repoPath } from '../../src/paths.ts';
import { waitFor } from '../../src/util/wait.ts';
import { lockgraderTempDirs, processesMatching } from '../support/leftovers.ts';

test('SIGTERM to grade exits 143 and leaves no process and no grading folder behind', async () => {
  const tempBefore = await lockgraderTempDirs();
  const fixture = path.join(repoPath('fixtures/hostile'), 'never-ends');
  const grading = execa(...lockgraderCommand(['grade', fixture, '--challenges', '2', '--script-timeout', '120', '--quiet']), { reject: false });
  // The learner script itself (not the grader, whose command line names the fixture too).
  const mine = /^\/bin\/bash \S*(challenge2\/recover|normalized-recover)\.sh$/;
  // The event: the learner script is running.
  await waitFor(async () => ((await processesMatching(mine)).length > 0 ? true : undefined), { what: 'recover.sh to start', timeoutMs: 120_000, intervalMs: 20 });
  grading.kill('SIGTERM');
  const result = await grading;
  expect(result.exitCode).toBe(143);
  expect(result.stderr).toContain('SIGTERM');
  const left = await waitFor(async () => {
    const found = await processesMatching(mine);
    return found.length === 0 ? found : undefined;
  }, { what: 'the learner script to be gone', timeoutMs: 5_000, intervalMs: 20 }).catch(async () => processesMatching(mine));
  expect(left).toEqual([]);
  const tempLeft = (await lockgraderTempDirs()).filter((dir) => !tempBefore.includes(dir));
  expect(tempLeft).toEqual([]);
}, 300_000);
