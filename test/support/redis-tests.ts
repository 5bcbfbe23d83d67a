// Jest side of the redis-server helper (kept apart so scripts can start a
// redis-server without loading Jest).
import { describe } from '@jest/globals';
import { describeUnrunnable } from './ci.ts';
import { locateRedisServer } from './redis-server.ts';

/**
 * describe(title, body) when redis-server is here; otherwise one skipped test
 * whose name and printed line say why — in CI a failing one (test/support/ci.ts).
 */
export async function describeWithRedis(title: string, body: (binary: string) => void): Promise<void> {
  const found = await locateRedisServer();
  if ('binary' in found) describe(title, () => body(found.binary));
  else describeUnrunnable(title, found.reason);
}
