export { BrokerRemotingService, type BrokerServiceOptions } from './broker-service.js';
export { NamesrvRegistrar, type RegistrarOptions } from './namesrv-registrar.js';
export { errorResponse } from './errors-to-response.js';
