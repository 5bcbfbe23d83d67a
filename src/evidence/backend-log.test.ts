import { describe, expect, test } from '@jest/globals';
import { BackendLog, type NewBackendRequest } from './backend-log.ts';

function request(overrides: Partial<NewBackendRequest> = {}): NewBackendRequest {
  return {
    at: 1000,
    endAt: 1010,
    run: 'r1',
    connection: 1,
    service: 'dynamodb',
    operation: 'GetItem',
    conditional: false,
    status: 200,
    userAgent: 'test',
    client: 'other',
    ...overrides,
  };
}

describe('BackendLog', () => {
  test('numbers entries in order of arrival and keeps them', () => {
    const log = new BackendLog();
    const a = log.append(request({ run: 'a' }));
    const b = log.append(request({ run: 'b' }));
    expect([a.seq, b.seq]).toEqual([0, 1]);
    expect(log.requests.map((r) => r.run)).toEqual(['a', 'b']);
  });

  test('forRun keeps only that relay’s requests', () => {
    const log = new BackendLog();
    for (const run of ['harness', 'c2:recover.sh', 'harness']) log.append(request({ run }));
    expect(log.forRun('harness').map((r) => r.seq)).toEqual([0, 2]);
    expect(log.forRun('c2:recover.sh').map((r) => r.seq)).toEqual([1]);
    expect(log.forRun('nobody')).toEqual([]);
  });

  test('exchanges in flight per run: opened by the relay at the request head, closed by the entry', () => {
    const log = new BackendLog();
    log.opened('c3:contention');
    log.opened('c3:contention');
    log.opened('harness');
    expect([log.openExchanges('c3:contention'), log.openExchanges('harness'), log.openExchanges('nobody')]).toEqual([2, 1, 0]);
    log.append(request({ run: 'c3:contention' }));
    expect(log.openExchanges('c3:contention')).toBe(1);
    log.append(request({ run: 'c3:contention' }));
    log.append(request({ run: 'c3:contention' }));
    expect(log.openExchanges('c3:contention')).toBe(0);
    expect(log.openExchanges('harness')).toBe(1);
  });

  test('connection ids are unique per log', () => {
    const log = new BackendLog();
    const other = new BackendLog();
    expect([log.nextConnectionId(), log.nextConnectionId(), other.nextConnectionId()]).toEqual([1, 2, 1]);
  });

  test('onRequest sees later entries until unsubscribed; a throwing listener harms nobody', () => {
    const log = new BackendLog();
    log.append(request());
    const seen: number[] = [];
    log.onRequest(() => {
      throw new Error('observer bug');
    });
    const off = log.onRequest((r) => seen.push(r.seq));
    log.append(request());
    off();
    log.append(request());
    expect(seen).toEqual([1]);
    expect(log.requests).toHaveLength(3);
  });

  test('waitFor resolves at once with an entry already logged', async () => {
    const log = new BackendLog();
    log.append(request({ operation: 'PutItem' }));
    await expect(log.waitFor((r) => r.operation === 'PutItem')).resolves.toMatchObject({ seq: 0 });
  });

  test('waitFor resolves with the first future match', async () => {
    const log = new BackendLog();
    const waiting = log.waitFor((r) => r.operation === 'DeleteItem');
    log.append(request({ operation: 'PutItem' }));
    log.append(request({ operation: 'DeleteItem', run: 'first' }));
    log.append(request({ operation: 'DeleteItem', run: 'second' }));
    await expect(waiting).resolves.toMatchObject({ seq: 1, run: 'first' });
  });

  test('waitFor rejects when its signal aborts, before or while waiting', async () => {
    const log = new BackendLog();
    const controller = new AbortController();
    const waiting = log.waitFor(() => false, { signal: controller.signal });
    controller.abort(new Error('gave up'));
    await expect(waiting).rejects.toThrow('gave up');
    await expect(log.waitFor(() => false, { signal: AbortSignal.abort(new Error('already')) })).rejects.toThrow('already');
    // the aborted waiter no longer listens
    log.append(request());
  });

  test('waitFor rejects when the predicate throws', async () => {
    const log = new BackendLog();
    const waiting = log.waitFor((r) => {
      if (r.operation === 'bad') throw new Error('predicate bug');
      return false;
    });
    log.append(request({ operation: 'bad' }));
    await expect(waiting).rejects.toThrow('predicate bug');
    log.append(request({ operation: 'bad' }));
    await expect(log.waitFor(() => JSON.parse('{') as boolean)).rejects.toThrow(SyntaxError);
  });
});
