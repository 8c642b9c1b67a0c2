import { isRetryTopic } from '@apogee/message';
import { ApiError } from '../api-error.js';
import type { AdminDeps, AdminHandler } from '../context.js';
import { field } from '../json-body.js';

function membersOf(deps: AdminDeps, group: string) {
  const g = deps.broker.consumers.get(group);
  if (!g) return { online: false, members: [], subscriptions: [] };
  return {
    online: g.connections.size > 0,
    consumeType: g.consumeType,
    messageModel: g.messageModel,
    consumeFromWhere: g.consumeFromWhere,
    members: [...g.connections.values()].map((c) => ({
      clientId: c.clientId,
      address: c.channel.remoteAddress,
      language: c.language,
      version: c.version,
      lastHeartbeat: c.lastUpdate,
    })),
    subscriptions: [...g.subscriptions.values()].map((s) => ({ topic: s.topic, expressionType: s.expressionType, expression: s.subString })),
  };
}

function lagOf(deps: AdminDeps, group: string): number {
  let lag = 0;
  for (const p of deps.broker.groupProgress(group)) lag += p.lag;
  return lag;
}

/** GET /api/v1/groups: every subscription group with whether it is online, its member count and total lag. */
export const listGroups: AdminHandler = (deps) => {
  const names = new Set(deps.broker.groups.list().map((g) => g.groupName));
  for (const n of deps.broker.consumers.groupNames()) names.add(n);
  return {
    groups: [...names].sort().map((name) => {
      const live = deps.broker.consumers.get(name);
      return { groupName: name, online: (live?.connections.size ?? 0) > 0, members: live?.connections.size ?? 0, lag: lagOf(deps, name) };
    }),
  };
};

function requireGroup(deps: AdminDeps, group: string): void {
  if (!deps.broker.groups.get(group) && !deps.broker.consumers.get(group)) throw new ApiError('NOT_FOUND', `consumer group ${group} does not exist`);
}

/** GET /api/v1/groups/:group[?topic=T]: config, members, subscriptions and per-queue lag. */
export const getGroup: AdminHandler = (deps, req) => {
  const group = req.params['group']!;
  requireGroup(deps, group);
  const topic = req.query.get('topic') ?? undefined;
  const queues = deps.broker.groupProgress(group, topic);
  return {
    groupName: group,
    config: deps.broker.groups.get(group) ?? null,
    ...membersOf(deps, group),
    lag: queues.reduce((n, q) => n + q.lag, 0),
    queues,
  };
};

/**
 * Moves a group's committed offsets (every queue it has, or one topic's). Refused while members
 * are online: a running push consumer keeps its offsets in memory and would write them back.
 */
async function moveOffsets(deps: AdminDeps, group: string, topic: string | undefined, to: (t: string, q: number) => Promise<number>) {
  requireGroup(deps, group);
  const live = deps.broker.consumers.get(group);
  if (live && live.connections.size > 0) {
    throw new ApiError(
      'CONFLICT',
      `consumer group ${group} has ${live.connections.size} online member(s); stop them first (they keep offsets in memory and would write them back)`,
    );
  }
  if (topic !== undefined && !deps.broker.topics.get(topic)) throw new ApiError('NOT_FOUND', `topic ${topic} does not exist`);
  const moved = [];
  for (const p of deps.broker.groupProgress(group, topic)) {
    if (isRetryTopic(p.topic) && topic === undefined) continue;
    const offset = await to(p.topic, p.queueId);
    await deps.broker.commitOffset(group, p.topic, p.queueId, offset);
    moved.push({ topic: p.topic, queueId: p.queueId, from: p.consumerOffset, to: offset });
  }
  return { groupName: group, queues: moved };
}

/** POST /api/v1/groups/:group/reset-offset `{timestamp, topic?}`: each queue to its first message stored at or after `timestamp` (ms). */
export const resetOffset: AdminHandler = async (deps, req) => {
  const body = await req.body();
  const timestamp = field.int(body, 'timestamp', 0, Number.MAX_SAFE_INTEGER);
  if (timestamp === undefined) throw new ApiError('BAD_REQUEST', '"timestamp" (epoch ms) is required');
  const topic = field.string(body, 'topic', false);
  return moveOffsets(deps, req.params['group']!, topic, (t, q) => deps.broker.offsetByTime(t, q, timestamp, 'lower'));
};

/** POST /api/v1/groups/:group/skip-backlog `{topic?}`: each queue to its end (the lag becomes 0). */
export const skipBacklog: AdminHandler = async (deps, req) => {
  const body = await req.body();
  const topic = field.string(body, 'topic', false);
  return moveOffsets(deps, req.params['group']!, topic, async (t, q) => deps.broker.maxOffset(t, q));
};
