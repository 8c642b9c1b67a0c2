import type { Appended } from '@apogee/broker';
import type { ExactlyOnceStore } from '../session/inbound-qos2.js';
import type { PublishInput, Publisher } from './publisher.js';
import type { RetainedStore } from './retained-store.js';

/** Where every inbound publish (client PUBLISHes and wills) is stored, and counted. */
export class PublishStore implements ExactlyOnceStore {
  /** Publishes handed to the store (the metrics' messages in). */
  messagesIn = 0;

  constructor(
    private readonly publisher: Publisher,
    private readonly retained: RetainedStore,
  ) {}

  newUniqKey(): string {
    return this.publisher.newUniqKey();
  }

  wasStored(topic: string, uniqKey: string): Promise<boolean> {
    return this.publisher.wasStored(topic, uniqKey);
  }

  /** Stores a publish and keeps the retained index in step; resolves once both are durable. */
  async store(input: PublishInput): Promise<void> {
    this.messagesIn++;
    const offset = await this.publisher.publish(input);
    // The retained index follows the stored record; an empty payload clears it [MQTT-3.3.1-10].
    if (input.retain) await this.retained.set(input.topic, offset, input.payload.length === 0);
  }

  /**
   * Appends a publish now, without a promise (see Publisher.publishNow); null when it has to take
   * the promise path (new store topic). Throws when the broker refuses it (counted all the same).
   */
  appendNow(input: PublishInput): Appended | null {
    let r: Appended | null;
    try {
      r = this.publisher.publishNow(input);
    } catch (err) {
      this.messagesIn++;
      throw err;
    }
    if (r !== null) this.messagesIn++;
    return r;
  }
}
