import { describe, expect, test } from '@jest/globals';
import { deflateRawSync } from 'node:zlib';
import { sha256 } from './config-snapshot.ts';
import { parseInvocationArgs } from '../analysis/terraform-args.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { planConfigFiles, snapshotSavedPlan } from './saved-plan.ts';

/** A zip as terraform writes a plan (entries deflated, or stored), without CRCs (the reader does not check them). */
function zip(entries: Array<[name: string, content: string, stored?: boolean]>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content, stored] of entries) {
    const data = stored ? Buffer.from(content) : deflateRawSync(Buffer.from(content));
    const nameBytes = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(stored ? 0 : 8, 8);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(content.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(stored ? 0 : 8, 10);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(content.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const MAIN = 'resource "terraform_data" "deployment" {}\n';

describe('the configuration inside a saved plan', () => {
  test('the root module\'s .tf files (tfconfig/m-/), deflated or stored; other entries and modules are left out', () => {
    const plan = zip([
      ['tfplan', 'binary'],
      ['tfstate', '{}'],
      ['tfconfig/m-/main.tf', MAIN],
      ['tfconfig/m-/zz_override.tf', 'override', true],
      ['tfconfig/m-/yy_override.tofu', 'tofu override'],
      ['tfconfig/m-/README.md', 'text'],
      ['tfconfig/m-child/main.tf', 'module'],
      ['tfconfig/modules.json', '{}'],
    ]);
    expect(planConfigFiles(plan)).toEqual({ 'main.tf': sha256(MAIN), 'zz_override.tf': sha256('override'), 'yy_override.tofu': sha256('tofu override') });
  });

  test('a file that is not a zip has no configuration to read', () => {
    expect(planConfigFiles(Buffer.from('not a plan at all, just some words to be longer than twenty-two bytes'))).toBeUndefined();
  });
});

describe('the plan file an apply names', () => {
  test.each([
    [['apply', '-input=false', '/tmp/tfplan.edited'], '/tmp/tfplan.edited'],
    [['-chdir=/w', 'apply', '-lock-timeout', '60s', 'tfplan'], 'tfplan'],
    [['apply', '-auto-approve'], undefined],
    [['plan', '-out=tfplan'], undefined],
  ])('%j', (args, planFile) => {
    expect(parseInvocationArgs(args, {}).planFile).toBe(planFile);
  });
});

describe('snapshotSavedPlan: the plan file as the apply process sees it (/proc/<pid>/root)', () => {
  test('a plan is read; one larger than the grader reads is a plan of unknown configuration (no main.tf), not no plan at all (c2-cheat-plan-file-padded)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'saved-plan-'));
    try {
      const plan = zip([['tfconfig/m-/main.tf', MAIN]]);
      writeFileSync(path.join(dir, 'tfplan'), plan);
      expect(snapshotSavedPlan(process.pid, dir, 'tfplan')).toEqual({ dir: `${dir}/tfplan (saved plan)`, files: { 'main.tf': sha256(MAIN) } });
      expect(snapshotSavedPlan(process.pid, dir, 'tfplan', plan.length - 1)).toEqual({
        dir: `${dir}/tfplan (saved plan of ${plan.length} bytes, more than the ${plan.length - 1} the grader reads)`,
        files: {},
      });
      expect(snapshotSavedPlan(process.pid, dir, 'missing')).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
