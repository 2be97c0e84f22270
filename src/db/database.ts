// Connects Mongoose to MONGODB_URI, or to the embedded engine when it is unset.
import mongoose from 'mongoose';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { startEmbeddedDatabase, type EmbeddedDatabase, type EngineName } from './embedded.ts';

export interface Database {
  engine: EngineName | 'external';
  /** The server is FerretDB, embedded or not: its updates are not atomic (see serial-writes.ts). */
  isFerretDB: boolean;
  uri: string;
  connection: mongoose.Connection;
  /** True while the driver has a live connection: what /healthz reports. */
  isConnected(): boolean;
  close(): Promise<void>;
}

/** Options every connection uses: fail fast while the server is away instead of queueing. */
export const connectOptions = {
  // With buffering on, a query made during an outage waits silently; we would rather
  // answer the user at once with a clear error and let the driver reconnect behind it.
  bufferCommands: false,
  serverSelectionTimeoutMS: 5000,
  heartbeatFrequencyMS: 2000,
} satisfies mongoose.ConnectOptions;

export async function connectDatabase(uri: string, dbName?: string): Promise<mongoose.Connection> {
  // strictQuery drops filter paths that are not in the schema. Operators smuggled in
  // user input ({ $ne: null }) are stopped earlier: every input is parsed by a zod
  // schema into plain strings before it reaches a query.
  mongoose.set('strictQuery', true);
  await mongoose.connect(uri, { ...connectOptions, ...(dbName ? { dbName } : {}) });
  return mongoose.connection;
}

export async function openDatabase(config: Config, log: Logger): Promise<Database> {
  let embedded: EmbeddedDatabase | undefined;
  let uri = config.mongodbUri;
  if (!uri) {
    embedded = await startEmbeddedDatabase({ engine: config.dbEngine, dataDir: config.dataDir, log });
    uri = embedded.uri;
    log.info({ engine: embedded.engine, dataDir: embedded.dataDir }, `database: embedded ${embedded.engine}, data in ${embedded.dataDir}`);
  } else {
    log.info(`database: ${redactUri(uri)}`);
  }
  const connection = await connectDatabase(uri, embedded ? 'parley' : undefined);
  return {
    engine: embedded?.engine ?? 'external',
    isFerretDB: embedded ? embedded.engine === 'ferretdb' : await answersAsFerretDB(connection),
    uri,
    connection,
    isConnected: () => connection.readyState === mongoose.ConnectionStates.connected,
    close: async () => {
      await mongoose.disconnect();
      await embedded?.stop();
    },
  };
}

/** FerretDB names itself in buildInfo (`ferretdbVersion`); MongoDB has no such field. */
async function answersAsFerretDB(connection: mongoose.Connection): Promise<boolean> {
  const info = await connection.db!.admin().command({ buildInfo: 1 });
  return 'ferretdbVersion' in info;
}

function redactUri(uri: string): string {
  return uri.replace(/\/\/[^@/]*@/, '//***@');
}
