import type { Engine } from '@apogee/broker';
import type { Connection, RemotingCommand, RemotingServer } from '@apogee/remoting';
import type { ChannelTable } from '../channel.js';

/** What every processor works with. */
export interface ProcessorContext {
  broker: Engine;
  server: RemotingServer;
  channels: ChannelTable;
  /** Advertised "ip:port" of this broker (store host of every record). */
  brokerAddr: string;
}

export type Processor = (ctx: ProcessorContext, req: RemotingCommand, conn: Connection) => RemotingCommand | null | Promise<RemotingCommand | null>;

/** Serialises a JSON body. */
export const jsonBody = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'utf8');
