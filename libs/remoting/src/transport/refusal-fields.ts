import type { RemotingCommand } from '../command.js';
import { RequestCode, requestCodeName } from '../request-codes.js';
import { responseCodeName } from '../response-codes.js';
import { preview } from '../values.js';
import type { Connection } from './connection.js';

/** Header fields that say what a request was about, copied into the log line when present. */
const SUBJECT_FIELDS = ['topic', 'consumerGroup', 'producerGroup', 'group', 'groupName', 'brokerName', 'brokerAddr', 'clusterName', 'namespace'] as const;
/** SEND_MESSAGE_V2 and SEND_BATCH_MESSAGE carry the header under one-letter names (SendMessageRequestHeaderV2). */
const V2_NAMES: Readonly<Record<string, string>> = { a: 'producerGroup', b: 'topic' };
/** Longest header value a log line copies: the peer chose it. */
const MAX_VALUE = 128;

/**
 * The fields of a log line about a request answered with something other than SUCCESS: who asked
 * (remote address, and the client id when the caller knows it), what (the request code and its
 * name, its topic, group, broker or namespace when the header names one) and the answer (response
 * code name and remark).
 */
export function refusalFields(req: RemotingCommand, res: RemotingCommand, conn: Pick<Connection, 'remote'>, clientId?: string): Record<string, unknown> {
  const f: Record<string, unknown> = { remote: conn.remote };
  if (clientId !== undefined) f['clientId'] = clientId;
  f['request'] = requestCodeName(req.code);
  f['requestCode'] = req.code;
  const ext = req.extFields;
  const v2 = req.code === RequestCode.SEND_MESSAGE_V2 || req.code === RequestCode.SEND_BATCH_MESSAGE;
  if (v2) for (const short in V2_NAMES) if (Object.hasOwn(ext, short)) f[V2_NAMES[short]!] = bounded(ext[short]!);
  for (const name of SUBJECT_FIELDS) if (Object.hasOwn(ext, name)) f[name] = bounded(ext[name]!);
  f['response'] = responseCodeName(res.code);
  if (res.remark !== undefined) f['remark'] = res.remark;
  return f;
}

function bounded(v: string): string {
  return v.length > MAX_VALUE ? preview(v) : v;
}
