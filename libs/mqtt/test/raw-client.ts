import net from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';

/** A bare MQTT client on a socket, for exchanges mqtt.js will not perform (partial QoS 2 flows). */
export class RawClient {
  private readonly parser;
  private readonly queue: Packet[] = [];
  private waiters: Array<() => void> = [];
  private constructor(
    readonly socket: net.Socket,
    readonly protocolVersion: 4 | 5,
  ) {
    this.parser = mqttPacket.parser({ protocolVersion });
    this.parser.on('packet', (p: Packet) => {
      this.queue.push(p);
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('data', (d) => this.parser.parse(d));
    socket.on('error', () => {});
  }

  static async connect(
    url: string,
    connect: Partial<mqttPacket.IConnectPacket> & { clientId: string },
    protocolVersion: 4 | 5 = 4,
  ): Promise<{ client: RawClient; connack: Packet }> {
    const [host, port] = url.slice('mqtt://'.length).split(':');
    const socket = net.connect(Number(port), host);
    await new Promise((r) => socket.once('connect', r));
    const c = new RawClient(socket, protocolVersion);
    c.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion, keepalive: 0, clean: true, ...connect } as mqttPacket.IConnectPacket);
    return { client: c, connack: await c.next('connack') };
  }

  send(p: Packet): void {
    this.socket.write(mqttPacket.generate(p, { protocolVersion: this.protocolVersion }));
  }

  /** The next packet of this kind (skipping others is not allowed: the test states the order). */
  async next(cmd: Packet['cmd'], timeoutMs = 5000): Promise<Packet> {
    const p = await this.take(cmd, Date.now() + timeoutMs);
    if (p.cmd !== cmd) throw new Error(`expected ${cmd}, got ${p.cmd}`);
    return p;
  }

  /** Skips packets until one of this kind arrives. */
  async until(cmd: Packet['cmd'], timeoutMs = 5000): Promise<Packet> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const p = await this.take(cmd, deadline);
      if (p.cmd === cmd) return p;
    }
  }

  /** The next packet, waiting until `deadline`. */
  private async take(cmd: Packet['cmd'], deadline: number): Promise<Packet> {
    while (this.queue.length === 0) {
      if (Date.now() > deadline) throw new Error(`no ${cmd} in time`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return this.queue.shift()!;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
