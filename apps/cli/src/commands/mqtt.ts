import { table } from '../format.js';
import type { Command } from './command.js';

/** A session as GET /api/v1/mqtt/clients answers it (libs/mqtt's MqttSessionView). */
interface MqttClientRow {
  clientId: string;
  connected: boolean;
  protocolVersion: number | null;
  remoteAddress: string | null;
  username: string | null;
  persistent: boolean;
  inflight: number;
  subscriptions: Array<{ filter: string; qos: number; shared: boolean }>;
}

const VERSION_NAMES: Record<number, string> = { 3: '3.1', 4: '3.1.1', 5: '5.0' };

/** `mqtt clients`: connected MQTT clients (GET /api/v1/mqtt/clients), or every session with --all. */
export const mqttClientsCommand: Command = {
  path: ['mqtt', 'clients'],
  args: [],
  summary: 'list connected MQTT clients with protocol version, address and subscriptions (HTTP admin API)',
  options: [
    { name: 'prefix', kind: 'string', value: 'P', help: 'only client ids starting with P' },
    { name: 'all', kind: 'flag', help: 'every session, persistent ones waiting offline included' },
    { name: 'limit', kind: 'int', value: 'N', min: 1, help: 'at most N (default 1000)' },
  ],
  async run(ctx, args) {
    const q = new URLSearchParams();
    const prefix = args.str('prefix');
    if (prefix !== undefined) q.set('prefix', prefix);
    const limit = args.int('limit');
    if (limit !== undefined) q.set('limit', String(limit));
    const all = args.flag('all');
    const answer = await ctx.http().call<{ clients?: MqttClientRow[]; sessions?: MqttClientRow[] }>('GET', `/mqtt/${all ? 'sessions' : 'clients'}?${q}`);
    const rows = answer.clients ?? answer.sessions ?? [];
    ctx.emit({ clients: rows }, () =>
      rows.length === 0
        ? [all ? 'no MQTT session' : 'no MQTT client connected']
        : table(
            ['CLIENT ID', 'STATE', 'VERSION', 'ADDRESS', 'USER', 'INFLIGHT', 'SUBSCRIPTIONS'],
            rows.map((c) => [
              c.clientId,
              c.connected ? 'connected' : 'offline',
              c.protocolVersion === null ? '-' : (VERSION_NAMES[c.protocolVersion] ?? String(c.protocolVersion)),
              c.remoteAddress ?? '-',
              c.username ?? '-',
              c.inflight,
              c.subscriptions.map((s) => `${s.filter}(${s.qos})`).join(' ') || '-',
            ]),
          ),
    );
  },
};

/** `mqtt disconnect CLIENT_ID`: closes the client's connection (DISCONNECT 0x98 for MQTT 5); its session stays. */
export const mqttDisconnectCommand: Command = {
  path: ['mqtt', 'disconnect'],
  args: ['CLIENT_ID'],
  summary: 'disconnect an MQTT client (v5: reason 0x98, administrative action); a persistent session is kept (HTTP admin API)',
  options: [],
  async run(ctx, args) {
    const id = args.positionals[0]!;
    const answer = await ctx.http().call<{ disconnected: string }>('DELETE', `/mqtt/clients/${encodeURIComponent(id)}/connection`);
    ctx.emit(answer, () => `disconnected MQTT client ${answer.disconnected}`);
  },
};
