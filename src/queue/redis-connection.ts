// Redis connection settings from a redis:// or rediss:// URL, a printable form
// without the password, and a reachability check that fails fast
// (QUEUE_UNAVAILABLE) instead of ioredis's endless reconnecting.
import type { RedisOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { LockgraderError } from '../errors.ts';

/** --redis, else LOCKGRADER_REDIS_URL (keeps a password out of the process list). */
export function redisUrlFrom(flag: string | undefined): string {
  const url = flag ?? process.env.LOCKGRADER_REDIS_URL;
  if (!url) throw new LockgraderError('USAGE', 'no Redis: pass --redis redis://HOST:PORT or set LOCKGRADER_REDIS_URL', { flag: '--redis' });
  return url;
}

/** ioredis options for a redis:// or rediss:// URL (USAGE error for anything else). */
export function redisOptionsFromUrl(url: string): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new LockgraderError('USAGE', `--redis takes a URL like redis://127.0.0.1:6379 (got "${redactRedisUrl(url)}")`, { flag: '--redis' });
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new LockgraderError('USAGE', `--redis takes a redis:// or rediss:// URL (got ${parsed.protocol})`, { flag: '--redis' });
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new LockgraderError('USAGE', `--redis: the path of the URL is the database number (got "${db}")`, { flag: '--redis' });
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
    // BullMQ's workers block on Redis; commands wait through reconnects instead of failing.
    maxRetriesPerRequest: null,
  };
}

/** The URL with any password replaced by "***". */
export function redactRedisUrl(url: string): string {
  return url.replace(/^(\w+:\/\/[^:/@]*:)[^@]*@/, '$1***@');
}

/** Connects once and PINGs; QUEUE_UNAVAILABLE (exit 3) when Redis does not answer within timeoutMs. */
export async function assertRedisReachable(url: string, timeoutMs = 10_000): Promise<void> {
  const client = new Redis({ ...redisOptionsFromUrl(url), lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new LockgraderError('QUEUE_UNAVAILABLE', `cannot reach Redis at ${redactRedisUrl(url)}: ${(error as Error).message}`, { redis: redactRedisUrl(url) });
  } finally {
    client.disconnect();
  }
}
