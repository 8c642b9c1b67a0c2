/**
 * The ceiling of the remoting suite, run in its own process: a RemotingServer (@apogee/remoting,
 * the framing and connection code the broker uses) on 127.0.0.1 that answers every request with
 * a SUCCESS response carrying the same body. It does no broker work at all.
 *
 * So that the producer SDK can drive it through the very code path it uses against the broker,
 * it also plays NameServer for itself: GET_ROUTEINFO_BY_TOPIC answers a route of QUEUES queues on
 * one broker at this address, and the send responses carry the three header fields a send
 * result needs (msgId, queueId, queueOffset). Prints `echo: ready 127.0.0.1:<port>`; stops on
 * SIGTERM.
 */
import { RemotingServer, RequestCode, ResponseCode, responseTo, type RemotingCommand } from '@apogee/remoting';
import { PERM_READ, PERM_WRITE } from '@apogee/message';
import { QUEUES } from './common.js';

const server = new RemotingServer();
const BROKER_NAME = 'echo';
/** Same length as a broker's offset msg id (IPv4 store host + port + commit-log offset, hex). */
const MSG_ID = '7F00000100002A9F0000000000000000';
let addr = '';
let offset = 0;

const echo = (req: RemotingCommand): RemotingCommand =>
  responseTo(
    req,
    ResponseCode.SUCCESS,
    undefined,
    { msgId: MSG_ID, queueId: req.extFields['e'] ?? req.extFields['queueId'] ?? '0', queueOffset: String(offset++) },
    req.body,
  );

for (const code of [
  RequestCode.SEND_MESSAGE,
  RequestCode.SEND_MESSAGE_V2,
  RequestCode.SEND_BATCH_MESSAGE,
  RequestCode.HEART_BEAT,
  RequestCode.UNREGISTER_CLIENT,
]) {
  server.register(code, echo);
}
server.register(RequestCode.GET_ROUTEINFO_BY_TOPIC, (req) => {
  const route = {
    queueDatas: [{ brokerName: BROKER_NAME, readQueueNums: QUEUES, writeQueueNums: QUEUES, perm: PERM_READ | PERM_WRITE, topicSysFlag: 0 }],
    brokerDatas: [{ cluster: 'EchoCluster', brokerName: BROKER_NAME, brokerAddrs: { '0': addr } }],
  };
  return responseTo(req, ResponseCode.SUCCESS, undefined, {}, Buffer.from(JSON.stringify(route)));
});

const bound = await server.listen(0, '127.0.0.1');
addr = `127.0.0.1:${bound.port}`;
process.stdout.write(`echo: ready ${addr}\n`);

process.once('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
// Never outlive the suite for long even if its SIGTERM is lost: bounded in time like every loop here.
setTimeout(() => process.exit(0), 30 * 60_000).unref();
