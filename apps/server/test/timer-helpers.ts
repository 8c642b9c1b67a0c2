import { PullConsumer, type ReceivedMessage } from '@apogee/client';

/** Every message of every queue of `topic`, pulled from offset 0 with a fresh pull consumer. */
export async function pullAll(nameServer: string, topic: string): Promise<ReceivedMessage[]> {
  const c = new PullConsumer({ nameServer, group: `timer-check-${Math.random().toString(36).slice(2)}` });
  await c.start();
  try {
    const out: ReceivedMessage[] = [];
    for (const q of await c.fetchSubscribeQueues(topic)) {
      let offset = 0;
      for (;;) {
        const r = await c.pull(q, '*', offset, 32);
        out.push(...r.messages);
        if (r.status !== 'FOUND' || r.nextBeginOffset <= offset) break;
        offset = r.nextBeginOffset;
      }
    }
    return out;
  } finally {
    await c.shutdown();
  }
}
