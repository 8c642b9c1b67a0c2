/**
 * `cluster`: two standalone NameServers and two broker groups of one broker each (docs/cluster.md),
 * each process in its own namespace; the topic has queues on both groups. A fault on one group
 * leaves the other taking the sends of a non-ordered topic.
 */
import path from 'node:path';
import { NAMESRV_MAIN, SERVER_MAIN } from '../proc.js';
import { BaseTopology, type ChaosHost } from '../topology.js';

const NAMESRV_PORT = 9876;
const BROKER_PORT = 10911;
const HTTP_PORT = 8080;
export const CLUSTER_GROUPS = ['broker-a', 'broker-b'] as const;

export class ClusterTopology extends BaseTopology {
  readonly name = 'cluster';
  private namesrvs: ChaosHost[] = [];

  async setup(): Promise<void> {
    for (const name of ['ns1', 'ns2'])
      this.namesrvs.push(
        await this.addHost(name, 'namesrv', undefined, (net) => ({
          command: [process.execPath, '--enable-source-maps', NAMESRV_MAIN, '--port', String(NAMESRV_PORT), '--listen-host', net.ip],
          readyText: 'namesrv: listening',
        })),
      );
    await Promise.all(this.namesrvs.map((n) => n.proc.start()));
    const brokers: ChaosHost[] = [];
    for (const group of CLUSTER_GROUPS)
      brokers.push(
        await this.addHost(group, 'broker', group, (net) => ({
          command: [
            process.execPath,
            '--enable-source-maps',
            SERVER_MAIN,
            '--role',
            'broker',
            '--namesrv',
            this.nameServer(),
            '--cluster-name',
            'ChaosCluster',
            '--broker-name',
            group,
            '--data-dir',
            path.join(this.ctx.dir, `${group}-data`),
            '--flush',
            this.ctx.flush,
            '--listen-host',
            net.ip,
            '--broker-ip',
            net.ip,
            ...['--broker-port', String(BROKER_PORT), '--http-port', String(HTTP_PORT)],
            ...['--mqtt-port', 'off', '--amqp-port', 'off'],
          ],
          readyText: 'apogee: ready',
        })),
      );
    await Promise.all(brokers.map((b) => b.proc.start()));
  }

  nameServer(): string {
    return this.namesrvs.map((n) => `${n.net.ip}:${NAMESRV_PORT}`).join(';');
  }
}
