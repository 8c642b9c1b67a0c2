import { DEFAULT_TOPIC_FILTER_TYPE, Perm, isDlqTopic, isRetryTopic, isSystemTopic, type TopicFilterType } from '@apogee/message';
import { MAX_QUEUE_NUMS, topicConfigOf, topicQueueStats } from '@apogee/broker';
import { ApiError } from '../api-error.js';
import { AdminAnswer, type AdminDeps, type AdminHandler } from '../context.js';
import { field } from '../json-body.js';

const KINDS = ['normal', 'retry', 'dlq', 'system'] as const;
type TopicKind = (typeof KINDS)[number];

function kindOf(topic: string): TopicKind {
  if (isRetryTopic(topic)) return 'retry';
  if (isDlqTopic(topic)) return 'dlq';
  if (isSystemTopic(topic)) return 'system';
  return 'normal';
}

/** Sum of messages a topic holds now (max − min over its queues). */
function totals(deps: AdminDeps, topic: string, queues: number): { messages: number; maxOffsetSum: number } {
  let messages = 0;
  let maxOffsetSum = 0;
  for (let q = 0; q < queues; q++) {
    const max = deps.broker.maxOffset(topic, q);
    messages += max - deps.broker.minOffset(topic, q);
    maxOffsetSum += max;
  }
  return { messages, maxOffsetSum };
}

/**
 * GET /api/v1/topics[?kind=normal|retry|dlq|system][&prefix=P]: every topic config with its message
 * count and its rates over the last 10 s (messages stored and pulled per second; topic-rates.ts).
 */
export const listTopics: AdminHandler = (deps, req) => {
  const kind = req.query.get('kind');
  if (kind !== null && !(KINDS as readonly string[]).includes(kind)) throw new ApiError('BAD_REQUEST', `kind must be one of ${KINDS.join(', ')}`);
  const prefix = req.query.get('prefix') ?? '';
  return {
    topics: deps.broker.topics
      .list()
      .filter((t) => t.topicName.startsWith(prefix) && (kind === null || kindOf(t.topicName) === kind))
      .sort((a, b) => (a.topicName < b.topicName ? -1 : 1))
      .map((t) => ({
        ...t,
        kind: kindOf(t.topicName),
        ...totals(deps, t.topicName, Math.max(t.readQueueNums, t.writeQueueNums)),
        rates: deps.stats?.topicRates.of(t.topicName) ?? null,
      })),
  };
};

/** GET /api/v1/topics/:topic: the config, its rates, and every queue's min/max offsets and last store time. */
export const getTopic: AdminHandler = async (deps, req) => {
  const topic = req.params['topic']!;
  const cfg = deps.broker.topics.get(topic);
  if (!cfg) throw new ApiError('NOT_FOUND', `topic ${topic} does not exist`);
  return { ...cfg, kind: kindOf(topic), rates: deps.stats?.topicRates.of(topic) ?? null, queues: await topicQueueStats(deps.broker, cfg) };
};

/** The fields of a topic body; absent ones keep `base`'s (or the defaults). */
function configFrom(topic: string, body: Record<string, unknown>, base = topicConfigOf(topic, 8)) {
  const queues = field.int(body, 'queues', 1, MAX_QUEUE_NUMS);
  const read = field.int(body, 'readQueueNums', 0, MAX_QUEUE_NUMS) ?? queues ?? base.readQueueNums;
  const write = field.int(body, 'writeQueueNums', 0, MAX_QUEUE_NUMS) ?? queues ?? base.writeQueueNums;
  const perm = field.int(body, 'perm', 0, 15) ?? base.perm;
  const order = body['order'];
  if (order !== undefined && typeof order !== 'boolean') throw new ApiError('BAD_REQUEST', '"order" must be true or false');
  const filterType = body['topicFilterType'];
  if (filterType !== undefined && filterType !== 'SINGLE_TAG' && filterType !== 'MULTI_TAG')
    throw new ApiError('BAD_REQUEST', '"topicFilterType" must be SINGLE_TAG or MULTI_TAG');
  for (const k of Object.keys(body)) {
    if (!['topic', 'queues', 'readQueueNums', 'writeQueueNums', 'perm', 'order', 'topicFilterType'].includes(k))
      throw new ApiError('BAD_REQUEST', `unknown field "${k}"`);
  }
  return {
    ...base,
    topicName: topic,
    readQueueNums: read,
    writeQueueNums: write,
    perm,
    order: order ?? base.order,
    topicFilterType: (filterType as TopicFilterType | undefined) ?? base.topicFilterType ?? DEFAULT_TOPIC_FILTER_TYPE,
  };
}

/** POST /api/v1/topics `{topic, queues?|readQueueNums?+writeQueueNums?, perm?, order?}`: 201, or 409 if it exists. */
export const createTopic: AdminHandler = async (deps, req) => {
  const body = await req.body();
  const topic = field.string(body, 'topic')!;
  if (deps.broker.topics.get(topic)) throw new ApiError('CONFLICT', `topic ${topic} exists; PUT /api/v1/topics/${encodeURIComponent(topic)} updates it`);
  const cfg = configFrom(topic, body, topicConfigOf(topic, 8, Perm.READ | Perm.WRITE));
  return new AdminAnswer(201, await deps.broker.topics.createOrUpdate(cfg));
};

/** PUT /api/v1/topics/:topic: changes the given fields of an existing topic. */
export const updateTopic: AdminHandler = async (deps, req) => {
  const topic = req.params['topic']!;
  const existing = deps.broker.topics.get(topic);
  if (!existing) throw new ApiError('NOT_FOUND', `topic ${topic} does not exist; POST /api/v1/topics creates it`);
  const body = await req.body();
  if (body['topic'] !== undefined && body['topic'] !== topic) throw new ApiError('BAD_REQUEST', 'a topic cannot be renamed');
  return deps.broker.topics.createOrUpdate(configFrom(topic, body, existing));
};

/** DELETE /api/v1/topics/:topic: the config goes (routes drop it); its stored messages age out with retention. */
export const deleteTopic: AdminHandler = async (deps, req) => {
  const topic = req.params['topic']!;
  if (!(await deps.broker.topics.delete(topic))) throw new ApiError('NOT_FOUND', `topic ${topic} does not exist`);
  return { deleted: topic };
};
