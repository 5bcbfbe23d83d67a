import { describe, expect, test } from '@jest/globals';
import { parseDiskReport } from './disk-report.ts';

describe('disk report', () => {
  test('a full place (within 1 MiB of its size) is named; the largest use is kept', () => {
    const r = parseDiskReport('{"place":"/x/learner-1","used":536346624,"size":536870912}\n{"place":"/tmp","used":4096,"size":536870912}\n');
    expect(r).toEqual({ fullPlaces: ['its working copy and HOME'], usedBytes: 536346624 });
  });

  test('/tmp full', () => {
    expect(parseDiskReport('{"place":"/tmp","used":1048576,"size":1048576}\n').fullPlaces).toEqual(['/tmp']);
  });

  test('places with room, records and garbage lines say nothing is full', () => {
    const text = '{"place":"/tmp","used":10,"size":536870912}\nnot json\n{"place":1}\n{"event":"start","id":"1"}\nnull\n';
    expect(parseDiskReport(text)).toEqual({ fullPlaces: [], usedBytes: 10 });
    expect(parseDiskReport('')).toEqual({ fullPlaces: [], usedBytes: undefined });
  });
});
