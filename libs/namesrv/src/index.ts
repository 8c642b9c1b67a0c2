/**
 * @apogee/namesrv: the NameServer's pure logic (route tables, KV config, JSON bodies). No sockets:
 * request handlers in the server map RocketMQ request codes onto these calls.
 */
export * from './types.js';
export * from './errors.js';
export { sameDataVersion, compareDataVersion } from './data-version.js';
export { dataVersionToJson, parseDataVersion } from './data-version-json.js';
export type { ChannelId } from './broker-live-table.js';
export {
  RouteRegistry,
  type KvLookup,
  type RouteRegistryOptions,
  type RegisterBrokerRequest,
  type RegisterBrokerResult,
  type UnregisterBrokerRequest,
  type TopicListResult,
} from './route-registry.js';
export { KvConfigStore, type KvConfigStoreOptions } from './kv-config.js';
export { topicRouteDataToJson, clusterInfoToJson, topicListToJson, kvTableToJson, brokerDataToJson, queueDataToJson } from './route-json.js';
export {
  parseRegisterBrokerBody,
  encodeRegisterBrokerBody,
  checkBodyCrc32,
  javaCrc32,
  type RegisterBrokerBody,
  type ParseRegisterBodyOptions,
} from './register-body.js';
export { NameServer, type NameServerOptions } from './service/name-server.js';
export type { NamesrvLogger } from './service/refusal-log.js';
export {
  NAMESRV_HANDLERS,
  errorResponse as namesrvErrorResponse,
  guarded as guardedNamesrvHandler,
  registerBroker as handleRegisterBroker,
  unregisterBroker as handleUnregisterBroker,
  getRouteInfoByTopic as handleGetRouteInfoByTopic,
  getBrokerClusterInfo as handleGetBrokerClusterInfo,
  queryDataVersion as handleQueryDataVersion,
  brokerHeartbeat as handleBrokerHeartbeat,
  putKvConfig as handlePutKvConfig,
  getKvConfig as handleGetKvConfig,
  deleteKvConfig as handleDeleteKvConfig,
  type NamesrvContext,
  type NamesrvHandler,
} from './service/handlers.js';
