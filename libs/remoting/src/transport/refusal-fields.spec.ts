import { describe, expect, it } from 'vitest';
import { makeRequest } from '../command.js';
import { RequestCode } from '../request-codes.js';
import { ResponseCode } from '../response-codes.js';
import { refusalFields } from './refusal-fields.js';
import { responseTo } from './responses.js';

const conn = { remote: '127.0.0.1:50000' };

describe('refusalFields', () => {
  it('names the peer, the request code with its name, its subject and the answer', () => {
    const req = makeRequest(RequestCode.PULL_MESSAGE, { extFields: { consumerGroup: 'G', topic: 'T', queueId: '0' } });
    expect(refusalFields(req, responseTo(req, ResponseCode.TOPIC_NOT_EXIST, 'topic T does not exist'), conn)).toEqual({
      remote: '127.0.0.1:50000',
      request: 'PULL_MESSAGE',
      requestCode: 11,
      consumerGroup: 'G',
      topic: 'T',
      response: 'TOPIC_NOT_EXIST',
      remark: 'topic T does not exist',
    });
  });

  it("adds the client id when known, reads SEND_MESSAGE_V2's one-letter header, and names unknown codes", () => {
    const send = makeRequest(RequestCode.SEND_MESSAGE_V2, { extFields: { a: 'PG', b: 'T', c: 'TBW102' } });
    expect(refusalFields(send, responseTo(send, ResponseCode.NO_PERMISSION), conn, 'client@1')).toEqual({
      remote: '127.0.0.1:50000',
      clientId: 'client@1',
      request: 'SEND_MESSAGE_V2',
      requestCode: 310,
      producerGroup: 'PG',
      topic: 'T',
      response: 'NO_PERMISSION',
    });
    const odd = makeRequest(9999);
    expect(refusalFields(odd, responseTo(odd, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, 'request code 9999 not supported'), conn)).toMatchObject({
      request: 'UNKNOWN(9999)',
      requestCode: 9999,
      response: 'REQUEST_CODE_NOT_SUPPORTED',
    });
  });

  it('shortens a long header value the peer chose', () => {
    const req = makeRequest(RequestCode.QUERY_MESSAGE, { extFields: { topic: 'x'.repeat(10_000) } });
    const f = refusalFields(req, responseTo(req, ResponseCode.SYSTEM_ERROR), conn);
    expect((f['topic'] as string).length).toBeLessThanOrEqual(64);
  });
});
