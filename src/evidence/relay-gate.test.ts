import { describe, expect, test } from '@jest/globals';
import { isLockWrite, LockWriteGate } from './relay-gate.ts';

describe('isLockWrite', () => {
  test.each([
    [{ service: 'dynamodb', operation: 'PutItem' }, true],
    [{ service: 'dynamodb', operation: 'GetItem' }, false],
    [{ service: 'dynamodb', operation: 'DeleteItem' }, false],
    [{ service: 'dynamodb', operation: undefined }, false],
    [{ service: 's3', operation: 'PutObject', key: 'lab/terraform.tfstate.tflock' }, true],
    [{ service: 's3', operation: 'PutObject', key: 'lab/terraform.tfstate' }, false],
    [{ service: 's3', operation: 'GetObject', key: 'lab/terraform.tfstate.tflock' }, false],
    [{ service: 's3', operation: 'DeleteObject', key: 'lab/terraform.tfstate.tflock' }, false],
  ] as const)('%j: %s', (head, expected) => {
    expect(isLockWrite(head)).toBe(expected);
  });
});

describe('LockWriteGate', () => {
  const put = { service: 'dynamodb', operation: 'PutItem' } as const;
  const read = { service: 'dynamodb', operation: 'GetItem' } as const;

  test('open: nothing is held', () => {
    const gate = new LockWriteGate();
    expect(gate.hold(put)).toBeUndefined();
    expect(gate.heldCount).toBe(0);
  });

  test('closed: lock writes wait until it opens, in the order they came; reads pass', async () => {
    const gate = new LockWriteGate();
    gate.close();
    expect(gate.closed).toBe(true);
    expect(gate.hold(read)).toBeUndefined();
    const order: number[] = [];
    const first = gate.hold(put)?.then(() => order.push(1));
    const second = gate.hold(put)?.then(() => order.push(2));
    expect(first).toBeDefined();
    expect(gate.heldCount).toBe(2);
    await Promise.resolve();
    expect(order).toEqual([]);
    gate.open();
    await Promise.all([first, second]);
    expect(order).toEqual([1, 2]);
    expect(gate.closed).toBe(false);
    expect(gate.hold(put)).toBeUndefined();
  });

  test('closing twice keeps one gate; opening an open gate does nothing', async () => {
    const gate = new LockWriteGate();
    gate.open();
    gate.close();
    const held = gate.hold(put);
    gate.close();
    gate.open();
    await expect(held).resolves.toBeUndefined();
  });
});
