export { runCampaign, type CampaignOptions, type CampaignReport } from './campaign.js';
export { amqpFrames } from './frames/amqp.js';
export { mqttFrames } from './frames/mqtt.js';
export type { ConnectionFrames, FuzzPorts, FuzzProtocol, ProtocolFrames } from './frames/protocol.js';
export { remotingFrames } from './frames/remoting.js';
export { everyEndpointAnswers } from './liveness.js';
export { type FrameSample, type Mutation, mutate } from './mutate.js';
export { Prng } from './prng.js';
export { FuzzedServer, buildServer, type ServerPorts } from './server.js';
