import type { ReceivedMessage } from '../message.js';
import { PullSysFlag } from '../protocol/codes.js';
import { pullMessage } from './pull-api.js';
import type { ProcessQueue } from './process-queue.js';
import type { ConsumerRuntime } from './runtime.js';

/** Pause between flow-control checks while a queue holds too many unconsumed messages. */
const FLOW_CONTROL_PAUSE_MS = 50;
/** Extra time a long-poll request gets beyond the broker's suspend time. */
const LONG_POLL_MARGIN_MS = 15_000;

/**
 * The long-poll loop of one queue (PullMessageService + DefaultMQPushConsumerImpl.pullMessage):
 * PULL_MESSAGE with SUSPEND|SUBSCRIPTION (+COMMIT_OFFSET when clustering with a known offset),
 * hands found messages to `deliver`, follows nextBeginOffset on 19/20/21, backs off on errors.
 * Ends when the queue is dropped or the consumer stops.
 */
export async function runPullLoop(
  rt: ConsumerRuntime,
  pq: ProcessQueue,
  deliver: (pq: ProcessQueue, msgs: ReceivedMessage[]) => void,
  mayPull: () => boolean = () => true,
): Promise<void> {
  const q = pq.queue;
  const clustering = rt.opts.messageModel === 'CLUSTERING';
  while (rt.running() && !pq.dropped) {
    if (pq.count >= rt.opts.pullThresholdForQueue || !mayPull()) {
      await rt.inst.sleep(FLOW_CONTROL_PAUSE_MS);
      continue;
    }
    const sub = rt.subscriptions.get(q.topic);
    if (!sub) {
      await rt.inst.sleep(rt.opts.pullErrorBackoffMs);
      continue;
    }
    const stored = clustering ? (rt.offsets.read(q) ?? 0) : 0;
    const sysFlag = PullSysFlag.SUSPEND | PullSysFlag.SUBSCRIPTION | (stored > 0 ? PullSysFlag.COMMIT_OFFSET : 0);
    let result;
    try {
      const addr = rt.inst.brokerAddr(q.brokerName, pq.suggestedBrokerId) ?? (await rt.inst.requireMasterAddr(q.brokerName, q.topic));
      result = await pullMessage(
        rt.inst,
        addr,
        {
          consumerGroup: rt.group,
          queue: q,
          queueOffset: pq.nextOffset,
          maxMsgNums: rt.opts.pullBatchSize,
          sysFlag,
          commitOffset: stored,
          suspendTimeoutMillis: rt.opts.suspendMs,
          subscription: sub.expression,
          expressionType: sub.expressionType,
          subVersion: sub.subVersion,
        },
        sub,
        rt.opts.suspendMs + LONG_POLL_MARGIN_MS,
      );
    } catch (err) {
      if (!rt.running() || pq.dropped) return;
      rt.reportError(err);
      await rt.inst.sleep(rt.opts.pullErrorBackoffMs);
      continue;
    }
    if (pq.dropped) return;
    pq.suggestedBrokerId = result.suggestWhichBrokerId;
    pq.nextOffset = result.nextBeginOffset;
    switch (result.status) {
      case 'FOUND':
        if (result.messages.length > 0) {
          pq.put(result.messages, result.nextBeginOffset);
          deliver(pq, result.messages);
        } else correctOffset(rt, pq, result.nextBeginOffset);
        break;
      case 'NO_NEW_MSG':
      case 'NO_MATCHED_MSG':
        correctOffset(rt, pq, result.nextBeginOffset);
        break;
      case 'OFFSET_ILLEGAL':
        // The broker moved us (offset below min or above max): adopt its offset and commit it.
        pq.advance(result.nextBeginOffset);
        if (pq.count === 0) {
          rt.offsets.update(q, result.nextBeginOffset, false);
          await rt.offsets.persist([q]).catch((err) => rt.reportError(err));
        }
        break;
    }
  }
}

/** Nothing pending and nothing (matching) pulled: the committed offset may follow the pull offset. */
function correctOffset(rt: ConsumerRuntime, pq: ProcessQueue, nextBeginOffset: number): void {
  pq.advance(nextBeginOffset);
  if (pq.count === 0) rt.offsets.update(pq.queue, nextBeginOffset, true);
}
