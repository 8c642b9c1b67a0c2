import type http from 'node:http';
import type { Authorizer } from '@apogee/broker';
import { AdminAuth } from './admin-auth.js';
import { WINDOW_MS } from './login-throttle.js';
import { ApiError, errorBody } from './api-error.js';
import { apiErrorOf } from './broker-errors.js';
import { AdminAnswer, type AdminDeps, type AdminHandler, type AdminRequest } from './context.js';
import { readJsonObject } from './json-body.js';
import { Router } from './router.js';
import { deleteAclUser, getAcl, putAclAnonymous, putAclUser } from './routes/acl.js';
import { listAmqpConnections } from './routes/amqp.js';
import { cluster, health } from './routes/cluster.js';
import { getGroup, listGroups, resetOffset, skipBacklog } from './routes/groups.js';
import { getMessage, resendMessage, searchMessages } from './routes/messages.js';
import { getMessageTrace } from './routes/trace.js';
import { listOpenTransactions, recallTimer } from './routes/semantics.js';
import { statsOverview } from './routes/stats.js';
import { disconnectMqttClient, getMqttClient, listMqttClients, listMqttSessions, listRetained } from './routes/mqtt.js';
import { createTopic, deleteTopic, getTopic, listTopics, updateTopic } from './routes/topics.js';

/** Routes anyone may call (load balancers' health checks). */
const PUBLIC: ReadonlySet<AdminHandler> = new Set([health]);

/** Every route lives under this prefix. */
export const API_PREFIX = '/api/v1';

/** The route table (exported for the check that docs/admin-api.openapi.json lists exactly these). */
export function adminRouter(): Router<AdminHandler> {
  const p = API_PREFIX;
  return new Router<AdminHandler>()
    .add('GET', `${p}/health`, health)
    .add('GET', `${p}/cluster`, cluster)
    .add('GET', `${p}/topics`, listTopics)
    .add('POST', `${p}/topics`, createTopic)
    .add('GET', `${p}/topics/:topic`, getTopic)
    .add('PUT', `${p}/topics/:topic`, updateTopic)
    .add('DELETE', `${p}/topics/:topic`, deleteTopic)
    .add('GET', `${p}/groups`, listGroups)
    .add('GET', `${p}/groups/:group`, getGroup)
    .add('POST', `${p}/groups/:group/reset-offset`, resetOffset)
    .add('POST', `${p}/groups/:group/skip-backlog`, skipBacklog)
    .add('GET', `${p}/messages`, searchMessages)
    .add('GET', `${p}/messages/:id`, getMessage)
    .add('POST', `${p}/messages/:id/resend`, resendMessage)
    .add('GET', `${p}/messages/:id/trace`, getMessageTrace)
    .add('GET', `${p}/mqtt/clients`, listMqttClients)
    .add('GET', `${p}/mqtt/clients/:clientId`, getMqttClient)
    .add('DELETE', `${p}/mqtt/clients/:clientId/connection`, disconnectMqttClient)
    .add('GET', `${p}/mqtt/sessions`, listMqttSessions)
    .add('GET', `${p}/mqtt/retained`, listRetained)
    .add('GET', `${p}/amqp/connections`, listAmqpConnections)
    .add('GET', `${p}/transactions`, listOpenTransactions)
    .add('DELETE', `${p}/timers/:id`, recallTimer)
    .add('GET', `${p}/acl`, getAcl)
    .add('PUT', `${p}/acl/users/:username`, putAclUser)
    .add('DELETE', `${p}/acl/users/:username`, deleteAclUser)
    .add('PUT', `${p}/acl/anonymous`, putAclAnonymous)
    .add('GET', `${p}/stats/overview`, statsOverview);
}

/** Where the API reports what went wrong on its side (5xx). */
export interface AdminLog {
  warn(obj: object, msg: string): void;
}

/**
 * The HTTP admin API (docs/admin-api.openapi.json): JSON in and out, every request authenticated
 * as an admin (admin-auth.ts), engine refusals mapped by broker-errors.ts, every other failure
 * answered 500 with its message and logged. `/api/v1/health` needs no credentials (load balancers).
 */
export class AdminApi {
  private readonly router = adminRouter();
  private readonly auth: AdminAuth;

  constructor(
    private readonly deps: AdminDeps,
    authorizer: Authorizer,
    private readonly log: AdminLog,
  ) {
    this.auth = new AdminAuth(authorizer);
  }

  /** Whether a request path belongs to the API. */
  owns(url: string): boolean {
    return url === API_PREFIX || url.startsWith(`${API_PREFIX}/`) || url.startsWith(`${API_PREFIX}?`);
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let status = 200;
    let body: string;
    try {
      const url = new URL(req.url ?? '/', 'http://admin');
      const { handler, params } = this.router.match(req.method ?? 'GET', url.pathname);
      const principal = PUBLIC.has(handler) ? null : await this.auth.principalOf(req);
      let bodyRead: Promise<Record<string, unknown>> | null = null;
      const request: AdminRequest = { params, query: url.searchParams, principal, raw: req, body: () => (bodyRead ??= readJsonObject(req)) };
      const answer = await handler(this.deps, request);
      if (answer instanceof AdminAnswer) {
        status = answer.status;
        body = JSON.stringify(answer.value);
      } else body = JSON.stringify(answer);
    } catch (caught) {
      const err = apiErrorOf(caught);
      if (err instanceof ApiError) {
        status = err.status;
        body = errorBody(err.code, err.message);
        if (status === 401) res.setHeader('www-authenticate', 'Basic realm="apogee", charset="UTF-8"');
        if (status === 429) res.setHeader('retry-after', String(Math.ceil(WINDOW_MS / 1000)));
      } else {
        status = 500;
        const message = err instanceof Error ? err.message : String(err);
        this.log.warn({ method: req.method, url: req.url, err: message }, 'admin-http: request failed');
        body = errorBody('INTERNAL', message);
      }
    }
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(body);
  }
}
