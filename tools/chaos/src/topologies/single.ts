/** `single`: one all-in-one server (NameServer, broker and endpoints in one process) in its own namespace. */
import path from 'node:path';
import { SERVER_MAIN } from '../proc.js';
import { BaseTopology, type ChaosHost } from '../topology.js';

export const SERVER_PORTS = { namesrv: 9876, broker: 10911, http: 8080, mqtt: 1883 } as const;

export class SingleTopology extends BaseTopology {
  readonly name = 'single';
  private server: ChaosHost | undefined;

  async setup(): Promise<void> {
    this.server = await this.addHost('server', 'server', 'broker-0', (net) => ({
      command: [
        process.execPath,
        '--enable-source-maps',
        SERVER_MAIN,
        '--data-dir',
        path.join(this.ctx.dir, 'server-data'),
        '--flush',
        this.ctx.flush,
        '--listen-host',
        net.ip,
        '--broker-ip',
        net.ip,
        '--broker-name',
        'broker-0',
        '--cluster-name',
        'ChaosSingle',
        ...['--namesrv-port', SERVER_PORTS.namesrv, '--broker-port', SERVER_PORTS.broker, '--http-port', SERVER_PORTS.http].map(String),
        ...['--mqtt-port', String(SERVER_PORTS.mqtt), '--mqtt-ws-port', 'off', '--amqp-port', 'off'],
      ],
      readyText: 'apogee: ready',
    }));
    await this.server.proc.start();
  }

  nameServer(): string {
    return `${this.server!.net.ip}:${SERVER_PORTS.namesrv}`;
  }

  /** The MQTT endpoint, for the optional MQTT workload. */
  mqttUrl(): string {
    return `mqtt://${this.server!.net.ip}:${SERVER_PORTS.mqtt}`;
  }
}
