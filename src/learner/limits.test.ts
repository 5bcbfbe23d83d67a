import { describe, expect, test } from '@jest/globals';
import { DEFAULT_LIMITS, formatBytes, limitHits, limitsEnforcement, parseLimitOptions, parseSize, type RunCounters } from './limits.ts';

const quiet: RunCounters = { oomKills: 0, forksRefused: 0, cpuLimitReached: false, fullPlaces: [] };

describe('limit options', () => {
  test.each([
    ['1G', 1024 ** 3],
    ['512M', 512 * 1024 ** 2],
    ['1.5g', 1.5 * 1024 ** 3],
    ['2048k', 2 * 1024 ** 2],
    ['1048576', 1024 ** 2],
    ['768MiB', 768 * 1024 ** 2],
  ])('%s is %d bytes', (text, bytes) => expect(parseSize('--script-memory', text)).toBe(bytes));

  test.each(['', 'lots', '-1G', '100k', '1T'])('"%s" is a usage error naming the flag', (text) => {
    expect(() => parseSize('--script-disk', text)).toThrow(expect.objectContaining({ code: 'USAGE', message: expect.stringContaining('--script-disk') }));
  });

  test('counts are whole numbers with a floor', () => {
    expect(parseLimitOptions({ 'script-processes': '64', 'script-cpu': '30' })).toEqual({ processes: 64, cpuSeconds: 30 });
    expect(() => parseLimitOptions({ 'script-processes': '4' })).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(() => parseLimitOptions({ 'script-cpu': '1.5' })).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(parseLimitOptions({})).toEqual({});
  });

  test('sizes read back in words', () => {
    expect(formatBytes(DEFAULT_LIMITS.memoryBytes)).toBe('1 GiB');
    expect(formatBytes(DEFAULT_LIMITS.diskBytes)).toBe('512 MiB');
    expect(formatBytes(1.5 * 1024 ** 3)).toBe('1.5 GiB');
    expect(formatBytes(300 * 1024)).toBe('300 KiB');
  });

  test('defaults stay inside the bounds the platform was promised', () => {
    expect(DEFAULT_LIMITS.memoryBytes).toBeLessThanOrEqual(1024 ** 3);
    expect(DEFAULT_LIMITS.diskBytes).toBeLessThanOrEqual(1024 ** 3);
    expect(DEFAULT_LIMITS.processes).toBeLessThanOrEqual(512);
  });
});

describe('limit hits', () => {
  test('a run within its limits reached none', () => expect(limitHits(quiet, DEFAULT_LIMITS)).toEqual([]));

  test('each counter names its limit and value', () => {
    const hits = limitHits({ oomKills: 2, forksRefused: 1, cpuLimitReached: true, fullPlaces: ['/tmp'] }, DEFAULT_LIMITS);
    expect(hits.map((hit) => [hit.kind, hit.limit])).toEqual([
      ['cpu', '60 s'],
      ['memory', '1 GiB'],
      ['processes', '512'],
      ['disk', '512 MiB'],
    ]);
    expect(hits.map((hit) => hit.message)).toEqual([
      'was stopped at the 60 s CPU-time limit',
      'was stopped at the 1 GiB memory limit (its largest process was killed, 2 times)',
      'reached the 512-process limit (1 new process was refused)',
      'filled the 512 MiB disk limit of /tmp',
    ]);
  });

  test('one out-of-memory kill and many refused forks', () => {
    const hits = limitHits({ ...quiet, oomKills: 1, forksRefused: 7 }, { ...DEFAULT_LIMITS, memoryBytes: 256 * 1024 ** 2 });
    expect(hits.map((hit) => hit.message)).toEqual([
      'was stopped at the 256 MiB memory limit (its largest process was killed)',
      'reached the 512-process limit (7 new processes were refused)',
    ]);
  });
});

describe('enforcement', () => {
  test('with control groups and a sandbox every limit is held by the kernel', () => {
    const how = limitsEnforcement(undefined, true);
    expect(how.memory).toMatch(/^cgroup v1 memory/);
    expect(how.processes).toMatch(/^cgroup v1 pids/);
    expect(how.disk).toMatch(/tmpfs/);
  });

  test('without control groups memory and processes say why they are not enforced', () => {
    const how = limitsEnforcement('LOCKGRADER_CGROUPS=none', false);
    expect(how.memory).toBe('not enforced: LOCKGRADER_CGROUPS=none');
    expect(how.processes).toBe('not enforced: LOCKGRADER_CGROUPS=none');
    expect(how.cpu).toBe('RLIMIT_CPU per process only');
    expect(how.disk).toMatch(/RLIMIT_FSIZE per file only/);
  });
});
