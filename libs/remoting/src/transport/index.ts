// @apogee/remoting/transport: the TCP transport (server and client side) over the codec modules of
// this package. It imports those modules directly, never the package index, which re-exports it.
export * from './server.js';
export * from './partial-frame-budget.js';
export * from './client.js';
export * from './connection.js';
export * from './errors.js';
export * from './responses.js';
export * from './refusal-fields.js';
