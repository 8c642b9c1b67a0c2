import type { Context } from '../context.js';
import { table } from '../format.js';
import type { Command } from './command.js';

/** `cluster`: every cluster, its broker groups and their addresses (GET_BROKER_CLUSTER_INFO). */
export const clusterCommand: Command = {
  path: ['cluster'],
  args: [],
  summary: 'list clusters, brokers and their addresses',
  options: [],
  notes: ["Replicated groups' roles, epochs, in-sync sets and lag: `cluster ha --controller etcd://H:P`."],
  async run(ctx: Context) {
    const info = await ctx.admin().clusterInfo();
    ctx.emit(info, () => {
      const rows: string[][] = [];
      for (const [cluster, names] of Object.entries(info.clusterAddrTable).sort(([a], [b]) => a.localeCompare(b))) {
        for (const name of names) {
          const addrs = Object.entries(info.brokerAddrTable[name]?.brokerAddrs ?? {}).sort(([a], [b]) => Number(a) - Number(b));
          for (const [id, addr] of addrs) rows.push([cluster, name, id === '0' ? '0 (master)' : id, addr]);
        }
      }
      return rows.length === 0 ? ['no broker registered'] : table(['CLUSTER', 'BROKER', 'ID', 'ADDRESS'], rows);
    });
  },
};
