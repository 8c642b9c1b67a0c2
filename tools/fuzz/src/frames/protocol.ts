import type { FrameSample } from '../mutate.js';
import type { Prng } from '../prng.js';

/** The ports of the server a campaign fuzzes. */
export interface FuzzPorts {
  namesrvPort: number;
  brokerPort: number;
  mqttPort: number;
  amqpPort: number;
  httpPort: number;
}

/** The protocols a campaign can fuzz. */
export type FuzzProtocol = 'remoting' | 'mqtt' | 'amqp';

/** How one protocol's connections and frames are made. */
export interface ProtocolFrames {
  readonly protocol: FuzzProtocol;
  /** The port a new connection goes to. */
  port(ports: FuzzPorts, rng: Prng): number;
  /** A new connection's frames (chosen by `rng`: protocol version, SASL or not, …). */
  connection(rng: Prng): ConnectionFrames;
}

/** The frames of one connection. */
export interface ConnectionFrames {
  /** What the connection sends first (a valid handshake; mutated like every other frame). */
  opening: FrameSample[];
  /** One more valid frame of the open connection. */
  next(rng: Prng): FrameSample;
}
