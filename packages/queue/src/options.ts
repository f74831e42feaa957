import type { ConnectionOptions } from 'bullmq';

import { invalidOption, isIntegerInRange, isPlainObject } from '@sgenet/core';

/**
 * Queue names: 1 to 100 letters, digits, `_`, `.` or `-`. They become Redis keys, so they stay
 * plain; `sgenet worker/enqueue --queue` checks with this pattern too.
 */
export const QUEUE_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,100}$/;

/** Queue names become Redis keys: keep them plain ({@link QUEUE_NAME_PATTERN}). */
export function checkName(name: unknown): string | undefined {
  if (name === undefined) return undefined;
  if (typeof name !== 'string' || !QUEUE_NAME_PATTERN.test(name)) {
    throw invalidOption('name', '1 to 100 characters of letters, digits, _ . or -', name);
  }
  return name;
}

export function checkPrefix(prefix: unknown): string | undefined {
  if (prefix === undefined) return undefined;
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9_.{}-]{1,100}$/.test(prefix)) {
    throw invalidOption('prefix', '1 to 100 characters of letters, digits, _ . - { or }', prefix);
  }
  return prefix;
}

/**
 * BullMQ connection options: `{ host, port, ... }`, `{ url }` or a client instance. Workers block
 * on Redis, so ioredis must not give up on a request (`maxRetriesPerRequest: null`, as BullMQ asks).
 */
export function checkConnection(connection: unknown): ConnectionOptions {
  if (connection === undefined || connection === null || typeof connection !== 'object') {
    throw invalidOption('connection', 'Redis connection options { host, port } or { url }, or an ioredis client', connection);
  }
  if (isPlainObject(connection)) {
    const { host, port, url } = connection;
    if (host !== undefined && typeof host !== 'string') throw invalidOption('connection.host', 'a host name', host);
    if (port !== undefined && !isIntegerInRange(port, 1, 65535)) {
      throw invalidOption('connection.port', 'an integer between 1 and 65535', port);
    }
    if (url !== undefined) redisUrlOptions(url);
    return { maxRetriesPerRequest: null, ...connection } as ConnectionOptions;
  }
  return connection as ConnectionOptions;
}

/**
 * `redis://[user:password@]host[:port][/db]` (or `rediss://` for TLS) as connection options.
 * Throws an `InvalidOptionError` that shows the expected form.
 */
export function redisUrlOptions(url: unknown): ConnectionOptions {
  let parsed: URL;
  try {
    if (typeof url !== 'string') throw new TypeError();
    parsed = new URL(url);
  } catch {
    throw invalidOption('Redis URL', 'redis://host:port or rediss://host:port (with optional user:password@ and /db)', url);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw invalidOption('Redis URL', 'a redis:// or rediss:// URL', url);
  }
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d{1,2}$/.test(db)) throw invalidOption('Redis URL database', 'a number 0 to 99 after the /', db);
  return {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(db !== '' ? { db: Number(db) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}
