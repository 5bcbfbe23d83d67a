import { describe, expect, test } from '@jest/globals';
import { mapLimited } from './map-limited.ts';

/** Work whose items end when told to, recording what ran at once. */
function controlled() {
  const running = new Set<string>();
  const log: string[] = [];
  const finish = new Map<string, () => void>();
  let peak = 0;
  const work = (item: string) =>
    new Promise<string>((resolve) => {
      running.add(item);
      peak = Math.max(peak, running.size);
      log.push(`start ${item}`);
      finish.set(item, () => {
        running.delete(item);
        log.push(`end ${item}`);
        resolve(item.toUpperCase());
      });
    });
  const end = async (item: string) => {
    for (let turn = 0; turn < 20 && !finish.has(item); turn += 1) await Promise.resolve();
    finish.get(item)!();
  };
  return { work, end, log, peak: () => peak };
}

describe('at most N at a time, started in order, results in order', () => {
  test('2 lanes over 3 items: the third starts when the first of the two ends', async () => {
    const c = controlled();
    const all = mapLimited(['c3', 'c1', 'c2'], 2, c.work);
    await c.end('c1');
    await c.end('c2');
    await c.end('c3');
    expect(await all).toEqual(['C3', 'C1', 'C2']);
    expect(c.log).toEqual(['start c3', 'start c1', 'end c1', 'start c2', 'end c2', 'end c3']);
    expect(c.peak()).toBe(2);
  });

  test.each([
    [1, 1],
    [3, 3],
    [9, 3],
    [0, 1],
  ])('limit %i over 3 items runs at most %i at once', async (limit, peak) => {
    const c = controlled();
    const all = mapLimited(['a', 'b', 'c'], limit, c.work);
    for (const item of ['a', 'b', 'c']) await c.end(item);
    expect(await all).toEqual(['A', 'B', 'C']);
    expect(c.peak()).toBe(peak);
  });

  test('a failure rejects after the started items have settled, and starts nothing more in its lane', async () => {
    const started: string[] = [];
    let endSlow: () => void = () => undefined;
    const all = mapLimited(['bad', 'slow', 'later'], 2, (item) => {
      started.push(item);
      if (item === 'bad') return Promise.reject(new Error('harness fault'));
      if (item === 'slow') return new Promise<string>((resolve) => (endSlow = () => resolve(item)));
      return Promise.resolve(item);
    });
    let settled = false;
    void all.catch(() => (settled = true));
    for (let turn = 0; turn < 10; turn += 1) await Promise.resolve();
    expect(settled).toBe(false);
    endSlow();
    await expect(all).rejects.toThrow('harness fault');
    expect(started).toEqual(['bad', 'slow', 'later']);
  });
});
