import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';

import { redisUrlOptions } from './options.js';

/**
 * What {@link dropConnection} needs of a client: ioredis's `Redis`, or BullMQ's `IRedisClient`
 * wrapper of one.
 */
export interface DroppableClient {
  readonly status: string;
  connect(): Promise<unknown>;
  disconnect(reconnect?: boolean): void;
  once(event: string, listener: () => void): unknown;
}

/**
 * An ioredis client that remembers its duplicates. BullMQ makes a worker's blocking connection
 * by duplicating the client it is given; remembering it is how a worker can drop that connection
 * too when Redis stops answering (BullMQ only reaches it through a promise that never settles
 * when Redis was never reached).
 */
class OwnedRedis extends Redis {
  private readonly family: Set<Redis>;

  constructor(options: RedisOptions, family: Set<Redis>) {
    super(options);
    this.family = family;
    family.add(this);
    // BullMQ forwards this client's errors to the worker's 'error' event while it listens; this
    // listener only keeps ioredis from printing them itself before and after.
    this.on('error', () => {});
  }

  override duplicate(override?: Partial<RedisOptions>): Redis {
    return new OwnedRedis({ ...this.options, ...override }, this.family);
  }
}

/**
 * The ioredis client a worker hands BullMQ for connection options (not for a client of the
 * caller's, which stays the caller's). Its defaults are the ones BullMQ gives the connections it
 * makes itself: reconnect after 1 s, 2 s... up to 20 s, never give up on a command.
 */
export function ownedConnection(options: Record<string, unknown>, family: Set<Redis>): Redis {
  const { url, ...rest } = options;
  return new OwnedRedis({
    port: 6379,
    host: '127.0.0.1',
    retryStrategy: (times: number) => Math.max(Math.min(Math.exp(times), 20_000), 1000),
    ...(url !== undefined ? redisUrlOptions(url) : {}),
    ...rest,
    maxRetriesPerRequest: null,
  } as RedisOptions, family);
}

/**
 * Drops a connection now, whatever its state, so that nothing waits on it any more: its socket
 * and reconnect timer go, and the commands queued on it are rejected ("Connection is closed"),
 * which lets BullMQ's own close run to its end (and stop its timers).
 */
export function dropConnection(client: DroppableClient): void {
  if (client.status === 'end') return;
  client.disconnect();
  // A client whose socket had already closed is left 'reconnecting' by disconnect(): the retry
  // timer is cleared, but nothing ever emits 'end', and BullMQ's close awaits 'end' forever
  // (taskforcesh/bullmq#4656). Started once more while manually closed, the client ends for good
  // at its next close: status 'end', queued commands rejected.
  if (client.status === 'reconnecting') {
    client.connect().catch(() => {});
    // Redis came back in between: nobody wants this connection any more.
    client.once('ready', () => client.disconnect());
  }
}
