import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { makeRequest } from '../command.js';
import { FrameDecoder } from '../frame.js';
import { RequestCode } from '../request-codes.js';
import { ResponseCode } from '../response-codes.js';
import { AccessValidator, aclRefusal, ipOfPeer } from './access-validator.js';
import { compileAddressPatterns } from './remote-address-pattern.js';
import { aclSigner, signedContent, hmacSha1Base64, requestSignature, SigningOrder, hmacKeyOf, UNIQUE_KEY_QUERY_FIELD } from './signature.js';

/** HmacSHA1 by openssl, an implementation independent of node:crypto's call sites here. */
function opensslHmac(secret: string, content: Buffer): string {
  return execFileSync('openssl', ['dgst', '-sha1', '-hmac', secret, '-binary'], { input: content }).toString('base64');
}

describe('ACL 1.0 signature', () => {
  it('signs the values sorted by key in Java String order, then the body (openssl computes the same HMAC)', () => {
    const ext = { topic: 'T', b: 'two', AccessKey: 'ak', B: 'upper', é: 'accent', Z: 'zed', _x: 'under' };
    // Java compareTo: UTF-16 code units — uppercase before '_' before lowercase before 'é'.
    const expectedText = 'ak' + 'upper' + 'zed' + 'under' + 'two' + 'T' + 'accent';
    const body = Buffer.from([0, 1, 2, 0xff]);
    const content = signedContent(ext, body, false);
    expect(content).toEqual(Buffer.concat([Buffer.from(expectedText, 'utf8'), body]));
    expect(hmacSha1Base64('secret-key-1', content)).toBe(opensslHmac('secret-key-1', content));
  });

  it('adds AccessKey, SecurityToken and a Signature over all fields; the verifier skips _UNIQUE_KEY_QUERY', () => {
    const req = makeRequest(RequestCode.PULL_MESSAGE, { extFields: { topic: 'orders', consumerGroup: 'g' }, body: Buffer.from('xy') });
    aclSigner({ accessKey: 'AK1', secretKey: 'SK-123456', securityToken: 'tok' })(req);
    expect(req.extFields['AccessKey']).toBe('AK1');
    expect(req.extFields['SecurityToken']).toBe('tok');
    // AccessKey, SecurityToken, consumerGroup, topic — sorted — then the body.
    const content = Buffer.from('AK1tokgordersxy', 'utf8');
    expect(req.extFields['Signature']).toBe(opensslHmac('SK-123456', content));
    req.extFields[UNIQUE_KEY_QUERY_FIELD] = 'true';
    expect(signedContent(req.extFields, req.body, true)).toEqual(content);
  });

  it('keeps signing in Java order when the key set changes between requests (the sorted order is reused only for the same keys)', () => {
    const order = new SigningOrder();
    const key = hmacKeyOf('secret-key-2');
    const body = Buffer.from('payload');
    const requests: Array<Record<string, string>> = [
      { b: 'B', a: 'A', Z: 'z' },
      { b: 'B2', a: 'A2', Z: 'z2' },
      { a: 'A', b: 'B', Z: 'z', _x: 'x' },
      { q: 'Q', é: 'e', A: 'a' },
      { b: 'B3', a: 'A3', Z: 'z3' },
    ];
    for (const ext of requests) {
      const content = signedContent(ext, body, false);
      expect(content.subarray(0, content.length - body.length).toString('utf8')).toBe(
        Object.keys(ext)
          .sort()
          .map((k) => ext[k])
          .join(''),
      );
      expect(requestSignature(key, ext, body, false, order)).toBe(opensslHmac('secret-key-2', content));
    }
    expect(order.of({ y: '1', x: '2' })).toEqual(['x', 'y']);
    expect(order.of({ x: '2', y: '1' })).toEqual(['x', 'y']);
  });

  it('verifies what ali-ons signs (AccessKey, OnsChannel and header fields), decoded from its frame', () => {
    const require = createRequire(import.meta.url);
    const Channel = require('ali-ons/lib/channel.js');
    const AliCommand = require('ali-ons/lib/protocol/command/remoting_command.js');
    const aliReq = AliCommand.createRequestCommand(RequestCode.SEND_MESSAGE_V2, { a: 'PG', b: 'Täst', e: 3, k: false, n: null });
    aliReq.body = Buffer.from('hello');
    // Channel.beforeRequest alone, without opening its socket.
    const channel = Object.create(Channel.prototype);
    Object.defineProperty(channel, 'options', { value: { accessKey: 'ons-ak', secretKey: 'ons-secret' } });
    channel.beforeRequest(aliReq);
    const [cmd] = new FrameDecoder().push(aliReq.encode());
    expect(cmd!.extFields['OnsChannel']).toBe('ALIYUN');
    const validator = new AccessValidator({ accounts: [{ accessKey: 'ons-ak', secretKey: 'ons-secret' }], allowAnonymous: false });
    expect(validator.validate(cmd!, '10.0.0.1')).toEqual({ ok: true, accessKey: 'ons-ak', whitelisted: false });
    cmd!.body = Buffer.from('hellO');
    expect(validator.validate(cmd!, '10.0.0.1')).toEqual({ ok: false, message: 'Check signature failed for accessKey=ons-ak' });
  });
});

describe('AccessValidator', () => {
  const accounts = [
    { accessKey: 'alice-ak', secretKey: 'alice-secret' },
    { accessKey: 'lab-ak', secretKey: 'lab-secret', whiteRemoteAddress: '192.168.1.*' },
  ];
  const signed = (ak: string, sk: string) => {
    const req = makeRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { extFields: { topic: 'T' } });
    aclSigner({ accessKey: ak, secretKey: sk })(req);
    return req;
  };

  it('answers as Apache does: no key, unknown key, bad signature', () => {
    const v = new AccessValidator({ accounts, allowAnonymous: false });
    expect(v.validate(makeRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { extFields: { topic: 'T' } }), '1.2.3.4')).toEqual({
      ok: false,
      message: 'No accessKey is configured',
    });
    expect(v.validate(signed('bob-ak', 'x'), '1.2.3.4')).toEqual({ ok: false, message: 'No acl config for bob-ak' });
    expect(v.validate(signed('alice-ak', 'wrong'), '1.2.3.4')).toEqual({ ok: false, message: 'Check signature failed for accessKey=alice-ak' });
    expect(v.validate(signed('alice-ak', 'alice-secret'), '1.2.3.4')).toEqual({ ok: true, accessKey: 'alice-ak', whitelisted: false });
    const refusal = aclRefusal(makeRequest(RequestCode.SEND_MESSAGE), 'No accessKey is configured');
    expect(refusal.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(refusal.remark).toBe('org.apache.rocketmq.acl.common.AclException: No accessKey is configured');
  });

  it('lets anonymous requests through only when allowed, and still checks a signed one', () => {
    const v = new AccessValidator({ accounts, allowAnonymous: true });
    expect(v.validate(makeRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC), '1.2.3.4')).toEqual({ ok: true, accessKey: undefined, whitelisted: false });
    expect(v.validate(signed('alice-ak', 'wrong'), '1.2.3.4').ok).toBe(false);
  });

  it('skips the signature for an account white list and everything for the global one', () => {
    const v = new AccessValidator({ accounts, allowAnonymous: false, globalWhiteRemoteAddresses: ['10.1.1-3.{7,9}'] });
    expect(v.validate(signed('lab-ak', 'wrong'), '192.168.1.20')).toEqual({ ok: true, accessKey: 'lab-ak', whitelisted: false });
    expect(v.validate(signed('lab-ak', 'wrong'), '192.168.2.20').ok).toBe(false);
    expect(v.validate(makeRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC), '10.1.2.9')).toEqual({ ok: true, accessKey: undefined, whitelisted: true });
    expect(v.validate(makeRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC), '::ffff:10.1.3.7').ok).toBe(true);
    expect(v.validate(makeRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC), '10.1.4.9').ok).toBe(false);
    expect(ipOfPeer('[::1]:4000')).toBe('::1');
    expect(ipOfPeer('10.0.0.1:4000')).toBe('10.0.0.1');
  });

  it('refuses malformed white-list patterns at start', () => {
    expect(() => compileAddressPatterns(['10.1'])).toThrow(/4 octets/);
    expect(() => compileAddressPatterns(['10.1.1.300'])).toThrow(/not an octet/);
    expect(() => compileAddressPatterns(['10.1.5-2.*'])).toThrow(/bad range/);
  });
});
