import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readDiskReport } from './disk-report.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'disk-report-test-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function report(text: string) {
  const file = path.join(dir, `r-${Math.random()}.jsonl`);
  await writeFile(file, text);
  return readDiskReport(file);
}

describe('disk report', () => {
  test('a full place (within 1 MiB of its size) is named; the largest use is kept', async () => {
    const r = await report('{"place":"/x/learner-1","used":536346624,"size":536870912}\n{"place":"/tmp","used":4096,"size":536870912}\n');
    expect(r).toEqual({ fullPlaces: ['its working copy and HOME'], usedBytes: 536346624 });
  });

  test('/tmp full', async () => {
    expect((await report('{"place":"/tmp","used":1048576,"size":1048576}\n')).fullPlaces).toEqual(['/tmp']);
  });

  test('places with room, garbage lines and a missing file say nothing is full', async () => {
    expect(await report('{"place":"/tmp","used":10,"size":536870912}\nnot json\n{"place":1}\n')).toEqual({ fullPlaces: [], usedBytes: 10 });
    expect(await readDiskReport(path.join(dir, 'missing.jsonl'))).toEqual({ fullPlaces: [], usedBytes: undefined });
  });
});
