import type { RemotingCommand } from '../command.js';

/** Version the server reports in its responses (RocketMQ MQVersion V5_3_3). */
export const SERVER_VERSION = 479;

/** A response to `req`: same opaque, response flag, the given code and remark. */
export function responseTo(req: RemotingCommand, code: number, remark?: string, extFields: Record<string, string> = {}, body?: Buffer): RemotingCommand {
  const res: RemotingCommand = { code, language: 'JAVA', version: SERVER_VERSION, opaque: req.opaque, flag: 1, extFields };
  if (remark !== undefined) res.remark = remark;
  if (body !== undefined) res.body = body;
  return res;
}
