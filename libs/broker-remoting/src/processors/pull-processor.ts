import type { PullKind, PullRequest } from '@apogee/broker';
import {
  ResponseCode,
  optionalClampedLong,
  optionalInt,
  optionalString,
  requireClampedLong,
  requireInt,
  requireLong,
  requireString,
  responseTo,
} from '@apogee/remoting';
import type { Processor } from './context.js';

const CODE_OF: Record<PullKind, number> = {
  FOUND: ResponseCode.SUCCESS,
  NOT_FOUND: ResponseCode.PULL_NOT_FOUND,
  RETRY_IMMEDIATELY: ResponseCode.PULL_RETRY_IMMEDIATELY,
  OFFSET_MOVED: ResponseCode.PULL_OFFSET_MOVED,
};

/** PULL_MESSAGE (11) and LITE_PULL_MESSAGE (361): long-polled, body = stored records back to back. */
export const pullMessage: Processor = async (ctx, req, conn) => {
  const e = req.extFields;
  const pull: PullRequest = {
    group: requireString(e, 'consumerGroup'),
    topic: requireString(e, 'topic'),
    queueId: requireInt(e, 'queueId'),
    // A position compared with the queue's range: past 2^53 it is past every queue's end either way.
    offset: requireClampedLong(e, 'queueOffset'),
    maxMsgNums: requireInt(e, 'maxMsgNums'),
    sysFlag: requireInt(e, 'sysFlag'),
    commitOffset: requireLong(e, 'commitOffset'),
    suspendTimeoutMs: requireClampedLong(e, 'suspendTimeoutMillis'),
  };
  const subscription = optionalString(e, 'subscription');
  if (subscription !== undefined) pull.subscription = subscription;
  const expressionType = optionalString(e, 'expressionType');
  if (expressionType !== undefined) pull.expressionType = expressionType;
  const maxMsgBytes = optionalInt(e, 'maxMsgBytes');
  if (maxMsgBytes !== undefined) pull.maxMsgBytes = maxMsgBytes;
  void optionalClampedLong(e, 'subVersion');
  const channel = ctx.channels.of(conn);
  const out = await ctx.broker.puller.pull(pull, channel.closed);
  if (out.kind === 'FOUND' && ctx.broker.tracer.deliveries)
    ctx.broker.tracer.pulled(pull.group, pull.topic, pull.queueId, out.messages, channel.clientId ?? '', channel.remoteAddress);
  const ext = {
    suggestWhichBrokerId: '0',
    nextBeginOffset: String(out.nextBeginOffset),
    minOffset: String(out.minOffset),
    maxOffset: String(out.maxOffset),
  };
  const body = out.kind === 'FOUND' ? (out.messages.length === 1 ? out.messages[0]!.record : Buffer.concat(out.messages.map((m) => m.record))) : undefined;
  return responseTo(req, CODE_OF[out.kind], out.storeStatus, ext, body);
};
