// What the lab relies on, checked against a real terraform/tofu binary and a
// live embedded backend: contention, SIGKILL leaving the lock, force-unlock.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createLabStore, deleteLabStore, LabStoreReader, type LabStore } from '../../src/backend/lab-store.ts';
import { startEmbeddedBackend } from '../../src/backend/embedded.ts';
import type { StartedBackend } from '../../src/backend/types.ts';
import { applyArgs, forceUnlockArgs, planArgs } from '../../src/terraform/args.ts';
import { locateTerraform, type TerraformBinary } from '../../src/terraform/locate.ts';
import { startLockHolder } from '../../src/terraform/lock-holder.ts';
import { createWorkspace, type Workspace } from '../../src/workspace/workspace.ts';

let backend: StartedBackend;
let terraform: TerraformBinary;
let store: LabStore;
let workspace: Workspace;
let reader: LabStoreReader;

beforeAll(async () => {
  terraform = await locateTerraform();
  process.stdout.write(`terraform under test: ${terraform.flavour} ${terraform.version} (${terraform.path})\n`);
  backend = await startEmbeddedBackend();
  store = await createLabStore(backend);
  workspace = await createWorkspace({ store, terraform });
  reader = new LabStoreReader(store);
  const baseline = await workspace.run(applyArgs());
  expect(baseline.exitCode).toBe(0);
}, 120_000);

afterAll(async () => {
  reader?.close();
  await workspace?.dispose();
  if (store) await deleteLabStore(store);
  await backend?.stop();
});

describe('lock contention', () => {
  test('a concurrent plan exits 1 with the lock error while the lock item names the holder', async () => {
    const holder = await startLockHolder(workspace, { vars: { release: 'contention' } });
    const plan = await workspace.run(planArgs({ lockTimeout: '0s' }));
    const item = await reader.readLock();
    const done = await holder.release();

    expect(plan.exitCode).toBe(1);
    expect(plan.all).toContain('Error acquiring the state lock');
    expect(plan.all).toContain(`ID:        ${holder.lock.ID}`);
    expect(item?.info?.ID).toBe(holder.lock.ID);
    expect(item?.info?.Operation).toBe('OperationTypeApply');
    expect(item?.info?.Who).toMatch(/.+@.+/);
    expect(item?.info?.Path).toBe(store.lockId);
    expect(done.exitCode).toBe(0);
    expect(await reader.readLock()).toBeUndefined();
  }, 120_000);
});

describe('orphaned lock', () => {
  test('SIGKILL leaves the lock; a wrong ID is refused; force-unlock releases it; then zero drift', async () => {
    const before = await reader.readState();
    const holder = await startLockHolder(workspace, { vars: { release: 'killed' } });
    const killed = await holder.kill();
    expect(killed.signal).toBe('SIGKILL');

    const orphan = await reader.readLock();
    expect(orphan?.info?.ID).toBe(holder.lock.ID);
    const after = await reader.readState();
    expect(after?.serial).toBe(before?.serial);

    const blocked = await workspace.run(planArgs({ lockTimeout: '0s' }));
    expect(blocked.exitCode).toBe(1);
    expect(blocked.all).toContain('Error acquiring the state lock');

    const wrong = await workspace.run(forceUnlockArgs('00000000-0000-0000-0000-000000000000'));
    expect(wrong.exitCode).toBe(1);
    expect((await reader.readLock())?.info?.ID).toBe(holder.lock.ID);

    const unlocked = await workspace.run(forceUnlockArgs(holder.lock.ID));
    expect(unlocked.exitCode).toBe(0);
    expect(await reader.readLock()).toBeUndefined();

    const converge = await workspace.run(applyArgs({ vars: { release: 'killed' } }));
    expect(converge.exitCode).toBe(0);
    const plan = await workspace.run(planArgs({ detailedExitCode: true, vars: { release: 'killed' } }));
    expect(plan.exitCode).toBe(0);

    const state = await reader.readState();
    expect(state?.lineage).toBe(before?.lineage);
    expect(await reader.readDigest()).toBe(state?.md5);
  }, 120_000);
});
