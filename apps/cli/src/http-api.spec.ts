import { describe, expect, it } from 'vitest';
import { whyUnreachable } from './http-api.js';

const err = (code: string | undefined, message: string): NodeJS.ErrnoException => Object.assign(new Error(message), code === undefined ? {} : { code });

describe('whyUnreachable', () => {
  it('tells how to trust the CA when the server certificate does not verify', () => {
    for (const code of ['SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED']) {
      expect(whyUnreachable(err(code, 'some text'), true)).toBe(
        'some text (the server certificate is not trusted: pass the CA that signed it with --tls-ca FILE or APOGEE_TLS_CA)',
      );
    }
  });

  it('points at --tls-servername for a certificate of another name', () => {
    expect(whyUnreachable(err('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"), true)).toContain('--tls-servername NAME');
  });

  it("keeps only OpenSSL's reason of an EPROTO, with a hint for a plain port and a wanted client certificate", () => {
    const plain =
      'write EPROTO 805C850BF37F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:\n';
    expect(whyUnreachable(err('EPROTO', plain), true)).toBe(
      'TLS wrong version number: the port does not answer TLS (is it plain HTTP? then use an http:// URL)',
    );
    const mtls =
      '800C04C9917F0000:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 116\n';
    expect(whyUnreachable(err('EPROTO', mtls), true)).toBe(
      'TLS tlsv13 alert certificate required: the server refused the handshake (does it want a client certificate? pass --tls-cert FILE --tls-key FILE)',
    );
    expect(whyUnreachable(err('EPROTO', 'x:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert something else:../deps/x.c:1:'), true)).toBe(
      'TLS sslv3 alert something else',
    );
  });

  it('suggests https:// when a plain request is reset, and leaves other errors as they are', () => {
    expect(whyUnreachable(err('ECONNRESET', 'socket hang up'), false)).toBe(
      'socket hang up (a server with TLS configured serves HTTPS on its HTTP port: use an https:// URL)',
    );
    expect(whyUnreachable(err('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'), false)).toBe('connect ECONNREFUSED 127.0.0.1:1');
    expect(whyUnreachable(err('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'), true)).toBe('connect ECONNREFUSED 127.0.0.1:1');
    expect(whyUnreachable(err(undefined, 'odd'), true)).toBe('odd');
  });
});
