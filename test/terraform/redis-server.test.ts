// The test helper's redis-server is real: it answers on its loopback port,
// keeps its files in its own folder, and stopping it by PID leaves no process,
// port or folder behind.
import { access } from 'node:fs/promises';
import { connect } from 'node:net';
import { expect, test } from '@jest/globals';
import { Redis } from 'ioredis';
import { startRedisServer } from '../support/redis-server.ts';
import { describeWithRedis } from '../support/redis-tests.ts';

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

await describeWithRedis('test helper: redis-server', (binary) => {
  test('starts on a free loopback port, answers PING with a real server, and stop() ends it by PID', async () => {
    const redis = await startRedisServer(binary);
    const client = new Redis(redis.url, { lazyConnect: true });
    try {
      await client.connect();
      expect(await client.ping()).toBe('PONG');
      const info = await client.info('server');
      expect(info).toMatch(/redis_version:\d+\.\d+/);
      expect(info).toContain(`process_id:${redis.pid}`);
      expect(info).toContain(`tcp_port:${redis.port}`);
      expect(await client.config('GET', 'dir')).toEqual(['dir', redis.dir]);
      expect(await client.config('GET', 'save')).toEqual(['save', '']);
    } finally {
      client.disconnect();
      await redis.stop();
    }
    expect(() => process.kill(redis.pid, 0)).toThrow(/ESRCH/);
    expect(await portAnswers(redis.port)).toBe(false);
    await expect(access(redis.dir)).rejects.toThrow(/ENOENT/);
  }, 60_000);
});
