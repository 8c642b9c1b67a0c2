import { ApiError } from '../api-error.js';
import type { AdminDeps, AdminHandler } from '../context.js';
import { queryParam } from '../query-params.js';
import { messageView } from './message-view.js';

function gateway(deps: AdminDeps) {
  if (!deps.mqtt) throw new ApiError('NOT_FOUND', 'the MQTT endpoint is off on this server (--mqtt-port off)');
  return deps.mqtt;
}

/** GET /api/v1/mqtt/clients[?prefix=P][&limit=N]: connected clients with protocol version, address and subscriptions. */
export const listMqttClients: AdminHandler = (deps, req) => {
  const limit = queryParam.int(req.query, 'limit', 1000, 1, 100_000);
  const prefix = req.query.get('prefix') ?? undefined;
  return { clients: gateway(deps).sessionViews({ limit, ...(prefix === undefined ? {} : { prefix }) }) };
};

/** GET /api/v1/mqtt/sessions[?prefix=P][&limit=N]: every session, persistent ones waiting offline included. */
export const listMqttSessions: AdminHandler = (deps, req) => {
  const limit = queryParam.int(req.query, 'limit', 1000, 1, 100_000);
  const prefix = req.query.get('prefix') ?? undefined;
  return { sessions: gateway(deps).sessionViews({ all: true, limit, ...(prefix === undefined ? {} : { prefix }) }) };
};

/** GET /api/v1/mqtt/clients/:clientId: one client's session and subscriptions. */
export const getMqttClient: AdminHandler = (deps, req) => {
  const id = req.params['clientId']!;
  const v = gateway(deps).sessionViewOf(id);
  if (!v) throw new ApiError('NOT_FOUND', `no MQTT session for client id ${id}`);
  return v;
};

/** DELETE /api/v1/mqtt/clients/:clientId/connection: disconnects the client (v5: DISCONNECT 0x98). */
export const disconnectMqttClient: AdminHandler = (deps, req) => {
  const id = req.params['clientId']!;
  if (!gateway(deps).disconnectClient(id)) throw new ApiError('NOT_FOUND', `MQTT client ${id} is not connected`);
  return { disconnected: id };
};

/** GET /api/v1/mqtt/retained?filter=F[&limit=N]: retained messages whose topic matches the filter (default `#`). */
export const listRetained: AdminHandler = async (deps, req) => {
  const filter = req.query.get('filter') ?? '#';
  const limit = queryParam.int(req.query, 'limit', 100, 1, 10_000);
  const records = await gateway(deps).retainedMessages(filter, limit);
  return { messages: records.map(messageView) };
};
