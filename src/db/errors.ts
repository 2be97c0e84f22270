import mongoose from 'mongoose';
import {
  MongoClientClosedError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerClosedError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
import { LockUnavailableError } from './redis-lock.ts';

/** The server refused a write because the `_id` (or another unique key) is taken. */
export function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 11000;
}

// The driver's pool errors are not exported by class; their names are stable.
const POOL_UNAVAILABLE = new Set(['MongoPoolClosedError', 'MongoWaitQueueTimeoutError']);

/**
 * Errors that mean "the database is away", as opposed to a bug: a page answers 503 for
 * them. Matched by class, so that subclasses count too: a request that was waiting for a
 * connection when the driver noticed the outage fails with PoolClearedOnNetworkError, a
 * MongoNetworkError whose name says nothing of the network. A cross-process write lock
 * that Redis could not give counts too: FerretDB behind several processes cannot be
 * written safely without it.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  return (
    err instanceof MongoNetworkError || // also timeouts and cleared pools
    err instanceof MongoServerSelectionError ||
    err instanceof MongoNotConnectedError ||
    err instanceof MongoTopologyClosedError ||
    err instanceof MongoServerClosedError ||
    err instanceof MongoClientClosedError ||
    err instanceof mongoose.Error.MongooseServerSelectionError ||
    err instanceof LockUnavailableError ||
    (err instanceof Error && POOL_UNAVAILABLE.has(err.name))
  );
}
