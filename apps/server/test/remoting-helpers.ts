import { RemotingClient, RequestCode, ResponseCode, makeRequest } from '@apogee/remoting';

/** Creates a topic on the broker and waits until the NameServer routes it (ali-ons needs a route before its first send). */
export async function createTopic(brokerAddr: string, namesrvAddr: string, topic: string, queues = 4, perm = 6): Promise<void> {
  const c = new RemotingClient();
  try {
    const res = await c.invoke(
      brokerAddr,
      makeRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, {
        extFields: {
          topic,
          defaultTopic: 'TBW102',
          readQueueNums: String(queues),
          writeQueueNums: String(queues),
          perm: String(perm),
          topicFilterType: 'SINGLE_TAG',
          order: 'false',
        },
      }),
    );
    if (res.code !== ResponseCode.SUCCESS) throw new Error(`create ${topic}: ${res.code} ${res.remark}`);
    for (let i = 0; i < 200; i++) {
      const route = await c.invoke(namesrvAddr, makeRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { extFields: { topic } }));
      if (route.code === ResponseCode.SUCCESS) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`${topic} never became routable`);
  } finally {
    c.close();
  }
}

/** Polls `cond` every 50 ms until it holds; fails after `timeoutMs` with `what`. */
export async function eventually(cond: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
