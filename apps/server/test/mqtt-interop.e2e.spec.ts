/**
 * Independent MQTT clients against a real server process: Debian's mosquitto-clients
 * (mosquitto_pub/mosquitto_sub) and python3-paho-mqtt. Locally they skip when not installed;
 * under CI=true (.ci/run installs them) they must run.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerProcess, killAllStarted, tempDataDir } from './server-process.js';

const run = promisify(execFile);
const CI = process.env['CI'] === 'true';
const hasMosquitto = fs.existsSync('/usr/bin/mosquitto_pub') && fs.existsSync('/usr/bin/mosquitto_sub');
const PYTHON = '/usr/bin/python3';
const hasPaho = fs.existsSync(PYTHON) && fs.existsSync('/usr/lib/python3/dist-packages/paho/mqtt/client.py');

if (CI && (!hasMosquitto || !hasPaho)) throw new Error('CI=true but mosquitto-clients or python3-paho-mqtt is missing: .ci/run installs them');

let server: ServerProcess;
let dataDir: string;
let port: string;

beforeAll(async () => {
  dataDir = tempDataDir('apg-interop-');
  server = await ServerProcess.start(dataDir);
  port = server.mqttUrl.split(':').pop()!;
});

afterAll(async () => {
  await killAllStarted();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Starts mosquitto_sub for `count` messages; resolves with its output lines once it exits. */
function mosquittoSub(args: string[]): { ready: Promise<void>; done: Promise<string[]> } {
  const p = spawn('/usr/bin/mosquitto_sub', ['-h', '127.0.0.1', '-p', port, '-v', '-W', '20', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  let err = '';
  p.stderr.on('data', (d) => (err += d));
  const done = new Promise<string[]>((resolve, reject) =>
    p.on('exit', (code) => (code === 0 ? resolve(out.trim().split('\n')) : reject(new Error(`mosquitto_sub exited ${code}: ${err}`)))),
  );
  // mosquitto_sub has no "subscribed" signal; -d prints the SUBACK it received.
  const ready = new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + 15_000;
    const check = () => {
      if (out.includes('SUBACK') || err.includes('SUBACK')) resolve();
      else if (Date.now() > deadline) reject(new Error(`mosquitto_sub never subscribed: ${out} ${err}`));
      else setTimeout(check, 20);
    };
    check();
  });
  return { ready, done };
}

describe.skipIf(!hasMosquitto)('mosquitto-clients', () => {
  for (const version of ['mqttv311', 'mqttv5']) {
    it(`${version}: mosquitto_pub → mosquitto_sub through Apogee, QoS 0/1/2 and retained`, async () => {
      const topic = `interop/${version}`;
      await run('/usr/bin/mosquitto_pub', ['-h', '127.0.0.1', '-p', port, '-V', version, '-t', `${topic}/retained`, '-m', 'kept', '-q', '1', '-r']);
      const sub = mosquittoSub(['-V', version, '-t', `${topic}/#`, '-q', '2', '-C', '4', '-d']);
      await sub.ready;
      for (const q of ['0', '1', '2'])
        await run('/usr/bin/mosquitto_pub', ['-h', '127.0.0.1', '-p', port, '-V', version, '-t', `${topic}/q${q}`, '-m', `qos${q}`, '-q', q]);
      const lines = (await sub.done).filter((l) => l.startsWith(`${topic}/`));
      expect(lines.sort()).toEqual([`${topic}/q0 qos0`, `${topic}/q1 qos1`, `${topic}/q2 qos2`, `${topic}/retained kept`]);
    });
  }
});

const PAHO_SCRIPT = `
import sys, time, threading
import paho.mqtt.client as mqtt
port = int(sys.argv[1]); version = sys.argv[2]
proto = mqtt.MQTTv5 if version == '5' else mqtt.MQTTv311
got = []; subscribed = threading.Event(); done = threading.Event()
def on_message(c, u, m):
    got.append((m.topic, m.payload.decode(), m.qos))
    if len(got) == 3: done.set()
sub = mqtt.Client(client_id='paho-sub-' + version, protocol=proto)
sub.on_message = on_message
sub.on_subscribe = lambda *a: subscribed.set()
sub.connect('127.0.0.1', port); sub.loop_start()
sub.subscribe('paho/' + version + '/#', qos=2)
assert subscribed.wait(10), 'no SUBACK'
pub = mqtt.Client(client_id='paho-pub-' + version, protocol=proto)
pub.connect('127.0.0.1', port); pub.loop_start()
for q in (0, 1, 2):
    pub.publish('paho/%s/q%d' % (version, q), 'm%d' % q, qos=q).wait_for_publish(10)
assert done.wait(10), 'got only %r' % got
print(sorted(got))
pub.loop_stop(); sub.loop_stop(); pub.disconnect(); sub.disconnect()
`;

describe.skipIf(!hasPaho)('python3-paho-mqtt', () => {
  for (const version of ['3', '5']) {
    it(`MQTT ${version === '5' ? '5.0' : '3.1.1'}: paho publishes and subscribes at QoS 0/1/2`, async () => {
      const script = path.join(dataDir, `paho-${version}.py`);
      fs.writeFileSync(script, PAHO_SCRIPT);
      const { stdout } = await run(PYTHON, [script, port, version], { timeout: 60_000 });
      expect(stdout.trim()).toBe(`[('paho/${version}/q0', 'm0', 0), ('paho/${version}/q1', 'm1', 1), ('paho/${version}/q2', 'm2', 2)]`);
    });
  }
});
