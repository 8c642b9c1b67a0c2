import { RequestCode, ResponseCode, makeRequest } from '@apogee/remoting';
import { ClientError } from '../errors.js';
import { unregisterClientHeader } from '../protocol/headers.js';
import type { ClientInstance } from './instance.js';

/** HEART_BEAT (34) to each address; failures go to the instance's onError, never throw. */
export async function sendHeartbeats(inst: ClientInstance, addrs: readonly string[], body: Buffer): Promise<void> {
  await Promise.all(
    addrs.map(async (addr) => {
      try {
        const res = await inst.invoke(addr, makeRequest(RequestCode.HEART_BEAT, { body }));
        if (res.code !== ResponseCode.SUCCESS) inst.onError(ClientError.fromResponse('HEART_BEAT', res, addr));
      } catch (err) {
        inst.onError(err);
      }
    }),
  );
}

/** UNREGISTER_CLIENT (35) to each address, best effort (shutdown must not fail on a dead broker). */
export async function unregisterClient(
  inst: ClientInstance,
  addrs: readonly string[],
  group: { producerGroup?: string; consumerGroup?: string },
): Promise<void> {
  await Promise.all(
    addrs.map((addr) =>
      inst.invoke(addr, makeRequest(RequestCode.UNREGISTER_CLIENT, { extFields: unregisterClientHeader(inst.clientId, group) })).catch(() => undefined),
    ),
  );
}
