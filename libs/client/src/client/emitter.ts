import { EventEmitter } from 'node:events';
import type { ClientLogger } from '../logger.js';

/**
 * EventEmitter whose background errors never crash the process: 'error' is emitted only when
 * someone listens (Node throws on an unheard 'error'); otherwise it goes to the logger, if any.
 */
export class ClientEmitter extends EventEmitter {
  protected reportError(err: unknown, logger: ClientLogger): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else logger.warn?.('background error', { error: err instanceof Error ? err.message : String(err) });
  }
}
