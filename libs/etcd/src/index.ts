export { EtcdClient, type EtcdClientOptions } from './client.js';
export { type Endpoint, parseEndpoints, endpointName } from './endpoints.js';
export { EtcdError, EtcdUnavailableError, EtcdProtocolError, EtcdEndpointsError, EtcdClosedError } from './errors.js';
export type { Bytes, KeyValue, LeaseId, ResponseHeader } from './codec.js';
export type {
  RangeOptions,
  RangeResult,
  PutOptions,
  PutResult,
  DeleteOptions,
  DeleteResult,
  Compare,
  CompareResult,
  Txn,
  TxnOp,
  TxnOpResult,
  TxnResult,
} from './kv.js';
export type { LeaseGrant, LeaseTimeToLive } from './lease.js';
export type { CallOptions, TransportOptions } from './transport.js';
export type { Watch, WatchEvent, WatchHandlers, WatchOptions } from './watch.js';
