import { createHash } from 'node:crypto';
import type http from 'node:http';
import type { Authorizer, Principal } from '@apogee/broker';
import { ApiError } from './api-error.js';
import { LoginThrottle } from './login-throttle.js';

/** Verified credentials are remembered this long, so a console polling every second does not pay scrypt each time. */
const REMEMBER_MS = 5 * 60_000;
const MAX_REMEMBERED = 1024;

/**
 * Who an admin request is: HTTP Basic credentials checked against the `auth` section's users
 * (their scrypt password), or the anonymous principal when there are none and anonymous clients
 * are allowed. Only principals with `admin` may use the API (UNAUTHENTICATED / FORBIDDEN
 * otherwise). Failed logins are throttled per remote address (login-throttle.ts). A verified credential is remembered by its SHA-256 for REMEMBER_MS, or until the
 * `auth` section is replaced.
 */
export class AdminAuth {
  private readonly throttle: LoginThrottle;
  private readonly remembered = new Map<string, { principal: Principal; until: number; generation: number }>();

  constructor(
    private readonly auth: Authorizer,
    private readonly now: () => number = Date.now,
  ) {
    this.throttle = new LoginThrottle(now);
  }

  async principalOf(req: http.IncomingMessage): Promise<Principal> {
    const header = req.headers.authorization;
    let username: string | undefined;
    let password: string | undefined;
    if (header !== undefined) {
      const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
      if (!m) throw new ApiError('UNAUTHENTICATED', 'the Authorization header must be HTTP Basic (username:password)');
      const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon <= 0) throw new ApiError('UNAUTHENTICATED', 'the Basic credentials must be username:password');
      username = decoded.slice(0, colon);
      password = decoded.slice(colon + 1);
    }
    const key =
      username === undefined
        ? ''
        : createHash('sha256')
            .update(username)
            .update('\u0000')
            .update(password ?? '')
            .digest('base64');
    const known = key === '' ? undefined : this.remembered.get(key);
    let principal: Principal;
    // A credential verified under an older `auth` section (an edit may have changed it) is checked again.
    if (known && known.until > this.now() && known.generation === this.auth.generation) principal = known.principal;
    else {
      const address = req.socket.remoteAddress ?? '';
      const wait = this.throttle.waitMs(address);
      if (wait > 0) throw new ApiError('TOO_MANY_REQUESTS', `too many failed logins from ${address}: try again in ${Math.ceil(wait / 1000)} s`);
      const r = await this.auth.authenticate(username, password, 'admin-http');
      if (!r.ok) {
        if (username !== undefined) this.throttle.failed(address);
        if (username === undefined) throw new ApiError('UNAUTHENTICATED', 'this server needs credentials: send HTTP Basic username:password of an admin user');
        throw new ApiError('UNAUTHENTICATED', 'bad username or password');
      }
      principal = r.principal;
      if (key !== '') {
        if (this.remembered.size >= MAX_REMEMBERED) this.remembered.clear();
        this.remembered.set(key, { principal, until: this.now() + REMEMBER_MS, generation: this.auth.generation });
      }
    }
    if (!principal.admin) {
      throw new ApiError(
        'FORBIDDEN',
        principal.username === undefined ? 'anonymous clients are not admins here: log in as an admin user' : `user ${principal.username} is not an admin`,
      );
    }
    return principal;
  }
}
