/**
 * The CLI's client of the server's HTTP admin API (docs/admin-api.openapi.json): JSON over HTTP or
 * HTTPS (the global TLS options verify the server and may present a client certificate), Basic
 * credentials from --user/--password (or APOGEE_USER/APOGEE_PASSWORD). Commands that exist only in
 * the API (MQTT clients, AMQP connections, offset moves, timer recall, the ACL view) use it.
 */
import http from 'node:http';
import https from 'node:https';
import type { ClientTlsOptions } from '@apogee/client';

/** The CLI refuses to buffer answers larger than this (the API's lists are bounded well below). */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** An answer of the API that is not 2xx: its status and the `{error:{code,message}}` it carried. */
export class HttpApiError extends Error {
  override readonly name = 'HttpApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The API could not be reached or answered something that is not the API. */
export class HttpApiUnreachable extends Error {
  override readonly name = 'HttpApiUnreachable';
}

export interface HttpApiOptions {
  /** Basic credentials of an admin user of the server's `auth` section. */
  user?: { username: string; password: string } | undefined;
  /** Used for https:// URLs. */
  tls?: ClientTlsOptions | undefined;
  /** Per request (default 30 s). */
  timeoutMs?: number;
}

/** OpenSSL's codes for a server certificate that does not chain to a trusted CA (or is not valid now). */
const UNTRUSTED_CERTIFICATE = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
]);

/** OpenSSL's reason in one of its error strings ("…:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/…"). */
const OPENSSL_REASON = /error:[0-9A-Fa-f]+:SSL routines:[^:]*:([^:]+)/;

/**
 * Why a request failed, with what to try for the mistakes that are easy to make with TLS: an
 * https:// URL whose certificate is not trusted (no --tls-ca) or does not name the host, a server
 * that wants a client certificate, https:// to a plain HTTP port, http:// to a server that serves
 * HTTPS (it resets the connection). OpenSSL's own errors (EPROTO) come as several lines naming its
 * source files: only their reason is kept.
 */
export function whyUnreachable(err: NodeJS.ErrnoException, secure: boolean): string {
  const code = err.code ?? '';
  if (!secure) return code === 'ECONNRESET' ? `${err.message} (a server with TLS configured serves HTTPS on its HTTP port: use an https:// URL)` : err.message;
  if (UNTRUSTED_CERTIFICATE.has(code))
    return `${err.message} (the server certificate is not trusted: pass the CA that signed it with --tls-ca FILE or APOGEE_TLS_CA)`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `${err.message} (name the host the certificate is for with --tls-servername NAME, or use it in the URL)`;
  const reason = OPENSSL_REASON.exec(err.message)?.[1];
  if (reason === undefined) return err.message;
  if (/wrong version number|packet length too long|http request/i.test(reason))
    return `TLS ${reason}: the port does not answer TLS (is it plain HTTP? then use an http:// URL)`;
  if (/certificate required|handshake failure|bad certificate|unknown ca/i.test(reason))
    return `TLS ${reason}: the server refused the handshake (does it want a client certificate? pass --tls-cert FILE --tls-key FILE)`;
  return `TLS ${reason}`;
}

export class HttpApi {
  private readonly base: URL;

  constructor(
    baseUrl: string,
    private readonly opts: HttpApiOptions = {},
  ) {
    let u: URL;
    try {
      u = new URL(baseUrl);
    } catch {
      throw new HttpApiUnreachable(`--http needs a URL like http://127.0.0.1:8080, not ${JSON.stringify(baseUrl)}`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new HttpApiUnreachable(`--http needs an http:// or https:// URL, not ${u.protocol}`);
    this.base = u;
  }

  /** The URL requests go to (for messages). */
  get url(): string {
    return this.base.origin;
  }

  /** GET/POST/DELETE `path` (under /api/v1), with a JSON body when given; resolves with the parsed answer. */
  call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(`/api/v1${path}`, this.base);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    }
    const u = this.opts.user;
    if (u) headers['authorization'] = `Basic ${Buffer.from(`${u.username}:${u.password}`).toString('base64')}`;
    const secure = url.protocol === 'https:';
    const tls = this.opts.tls ?? {};
    const options: https.RequestOptions = {
      method,
      headers,
      timeout: this.opts.timeoutMs ?? 30_000,
      ...(secure ? tls : {}),
    };
    return new Promise<T>((resolve, reject) => {
      const req = (secure ? https : http).request(url, options, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_ANSWER_BYTES) {
            req.destroy(new HttpApiUnreachable(`the answer of ${url.pathname} is larger than ${MAX_ANSWER_BYTES} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text.length === 0 ? null : JSON.parse(text);
          } catch {
            reject(new HttpApiUnreachable(`${this.url} answered ${res.statusCode} with something that is not JSON: is it Apogee's HTTP port?`));
            return;
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            resolve(parsed as T);
            return;
          }
          const e = (parsed as { error?: { code?: unknown; message?: unknown } } | null)?.error;
          reject(
            new HttpApiError(status, typeof e?.code === 'string' ? e.code : `HTTP_${status}`, typeof e?.message === 'string' ? e.message : text.slice(0, 200)),
          );
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new HttpApiUnreachable(`no answer from ${this.url} within ${options.timeout} ms`)));
      req.on('error', (err) =>
        reject(
          err instanceof HttpApiUnreachable ? err : new HttpApiUnreachable(`cannot reach the HTTP admin API at ${this.url}: ${whyUnreachable(err, secure)}`),
        ),
      );
      req.end(payload);
    });
  }
}
