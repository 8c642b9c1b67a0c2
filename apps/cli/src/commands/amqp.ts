import { iso, table } from '../format.js';
import type { Command } from './command.js';

/** A connection as GET /api/v1/amqp/connections answers it (libs/amqp's AmqpConnectionView). */
interface AmqpConnectionRow {
  id: string;
  remoteAddress: string;
  openedAt: number;
  username: string | null;
  containerId: string | null;
  links: Array<{ name: string; role: 'sender' | 'receiver'; address: string | null; credit: number; deliveryCount: number; durable?: boolean }>;
}

/** `amqp connections`: open AMQP connections with their links, addresses and credit. */
export const amqpConnectionsCommand: Command = {
  path: ['amqp', 'connections'],
  args: [],
  summary: 'list AMQP connections with their links, addresses and credit (HTTP admin API)',
  options: [],
  async run(ctx) {
    const { connections } = await ctx.http().call<{ connections: AmqpConnectionRow[] }>('GET', '/amqp/connections');
    ctx.emit({ connections }, () => {
      if (connections.length === 0) return ['no AMQP connection open'];
      const rows: Array<Array<string | number>> = [];
      for (const c of connections) {
        const who = `${c.containerId ?? c.id} ${c.remoteAddress} ${c.username ?? 'anonymous'} since ${iso(c.openedAt)}`;
        if (c.links.length === 0) rows.push([who, '-', '-', '-', '-']);
        // The server's role: a "sender" link delivers to the client, a "receiver" link takes its messages.
        for (const l of c.links)
          rows.push([who, l.role === 'sender' ? 'out' : 'in', `${l.address ?? '-'}${l.durable ? ' (durable)' : ''}`, l.credit, l.deliveryCount]);
      }
      return table(['CONNECTION', 'DIRECTION', 'ADDRESS', 'CREDIT', 'DELIVERIES'], rows);
    });
  },
};
