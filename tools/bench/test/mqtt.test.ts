import { describe, expect, it } from 'vitest';
import { mosquittoConf } from '../src/suites/mqtt/brokers.js';
import { connectPacket } from '../src/suites/mqtt/wire.js';

describe('mqtt suite helpers', () => {
  it('builds an MQTT 3.1.1 CONNECT with clean session and no keep-alive', () => {
    const p = connectPacket('abc');
    expect([...p]).toEqual([0x10, 15, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 0, 0, 3, 0x61, 0x62, 0x63]);
  });

  it('writes a loopback, anonymous, non-persistent mosquitto config with large windows', () => {
    const conf = mosquittoConf(18830);
    expect(conf).toContain('listener 18830 127.0.0.1');
    expect(conf).toContain('allow_anonymous true');
    expect(conf).toContain('persistence false');
    expect(conf).toMatch(/max_inflight_messages 1000\n/);
    expect(conf).toMatch(/max_queued_messages 100000\n/);
  });
});
