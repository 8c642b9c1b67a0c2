import { type AclCredentials, type RemotingCommand, RemotingClient, RequestCode, ResponseCode, aclSigner, makeRequest } from '@apogee/remoting';
import { encodeProperties } from '@apogee/message';

/** Remoting requests as a RocketMQ client sends them, signed with `creds` (unsigned without). */
export class SignedRemoting {
  private readonly client: RemotingClient;

  constructor(creds?: AclCredentials) {
    this.client = new RemotingClient(creds ? { beforeRequest: aclSigner(creds) } : {});
  }

  request(addr: string, code: number, extFields: Record<string, string>, body?: Buffer): Promise<RemotingCommand> {
    return this.client.invoke(addr, makeRequest(code, { extFields, ...(body ? { body } : {}) }), 10_000);
  }

  /** SEND_MESSAGE_V2 of one message to queue 0. */
  send(brokerAddr: string, topic: string, body: string, properties: Record<string, string> = {}): Promise<RemotingCommand> {
    const ext = {
      a: 'acl-test-producer',
      b: topic,
      c: 'TBW102',
      d: '4',
      e: '0',
      f: '0',
      g: String(Date.now()),
      h: '0',
      i: encodeProperties({ WAIT: 'true', ...properties }),
      j: '0',
      k: 'false',
      m: 'false',
    };
    return this.request(brokerAddr, RequestCode.SEND_MESSAGE_V2, ext, Buffer.from(body));
  }

  /** PULL_MESSAGE of queue `queueId` from offset 0, not held, subscription `*` given inline. */
  pull(brokerAddr: string, topic: string, group: string, queueId = 0): Promise<RemotingCommand> {
    return this.request(brokerAddr, RequestCode.PULL_MESSAGE, {
      consumerGroup: group,
      topic,
      queueId: String(queueId),
      queueOffset: '0',
      maxMsgNums: '32',
      // PullSysFlag SUBSCRIPTION: the subscription rides on the request (no heartbeat needed).
      sysFlag: '4',
      commitOffset: '0',
      suspendTimeoutMillis: '0',
      subscription: '*',
      subVersion: '0',
    });
  }

  /** Creates a topic (an admin request) and waits until the NameServer routes it. */
  async createTopic(brokerAddr: string, namesrvAddr: string, topic: string, queues = 1): Promise<void> {
    const res = await this.request(brokerAddr, RequestCode.UPDATE_AND_CREATE_TOPIC, {
      topic,
      defaultTopic: 'TBW102',
      readQueueNums: String(queues),
      writeQueueNums: String(queues),
      perm: '6',
      topicFilterType: 'SINGLE_TAG',
      order: 'false',
    });
    if (res.code !== ResponseCode.SUCCESS) throw new Error(`create ${topic}: ${res.code} ${res.remark}`);
    for (let i = 0; i < 200; i++) {
      const route = await this.request(namesrvAddr, RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic });
      if (route.code === ResponseCode.SUCCESS) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`${topic} never became routable`);
  }

  close(): void {
    this.client.close();
  }
}

/** Apache's remark for an ACL refusal. */
export const aclRemark = (message: string): string => `org.apache.rocketmq.acl.common.AclException: ${message}`;
