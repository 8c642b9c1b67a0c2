import { ApiError } from '../api-error.js';
import type { AdminHandler } from '../context.js';

/** GET /api/v1/amqp/connections: open AMQP connections with their links, addresses and credit. */
export const listAmqpConnections: AdminHandler = (deps) => {
  if (!deps.amqp) throw new ApiError('NOT_FOUND', 'the AMQP endpoint is off on this server (--amqp-port off)');
  return { connections: deps.amqp.connectionViews() };
};
