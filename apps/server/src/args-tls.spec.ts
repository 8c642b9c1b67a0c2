import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseServerArgs } from './args.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apg-args-tls-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function configFile(content: unknown): string {
  const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(file, JSON.stringify(content));
  return file;
}

describe('server command line: TLS', () => {
  it('has the TLS ports by default and no certificate (so no TLS listener)', () => {
    const a = parseServerArgs([], {});
    expect(a).toMatchObject({ mqttsPort: 8883, mqttWssPort: 8084, amqpsPort: 5671 });
    expect(a.tlsCert).toBeUndefined();
    expect(a.remotingTls).toBeUndefined();
  });

  it('takes every TLS setting from flags, the environment and the config file\'s "tls" section, flags first', () => {
    const file = configFile({
      tls: { cert: '/f/cert.pem', key: '/f/key.pem', ca: '/f/ca.pem', clientAuth: 'optional', handshakeTimeoutMs: 2500, remoting: 'enforcing' },
      mqttsPort: 18883,
    });
    const fromFile = parseServerArgs(['--config', file], {});
    expect(fromFile).toMatchObject({
      tlsCert: '/f/cert.pem',
      tlsKey: '/f/key.pem',
      tlsCa: '/f/ca.pem',
      tlsClientAuth: 'optional',
      tlsHandshakeTimeoutMs: 2500,
      remotingTls: 'enforcing',
      mqttsPort: 18883,
    });
    const a = parseServerArgs(['--config', file, '--tls-cert', '/flag/cert.pem', '--tls-client-auth=REQUIRED', '--amqps-port', 'off'], {
      APOGEE_TLS_CERT: '/env/cert.pem',
      APOGEE_TLS_KEY: '/env/key.pem',
      APOGEE_REMOTING_TLS: 'permissive',
    });
    expect(a).toMatchObject({ tlsCert: '/flag/cert.pem', tlsKey: '/env/key.pem', tlsClientAuth: 'required', remotingTls: 'permissive', amqpsPort: null });
  });

  it('refuses bad modes, a bad handshake timeout and unknown keys of the "tls" section, naming where', () => {
    expect(() => parseServerArgs(['--tls-client-auth', 'maybe'], {})).toThrow(/--tls-client-auth.*must be one of none, optional, required, got "maybe"/);
    expect(() => parseServerArgs(['--remoting-tls', 'strict'], {})).toThrow(/must be one of disabled, permissive, enforcing, got "strict"/);
    expect(() => parseServerArgs(['--tls-handshake-timeout-ms', '0'], {})).toThrow(/positive number of milliseconds/);
    const unknown = configFile({ tls: { certificate: '/x.pem' } });
    expect(() => parseServerArgs(['--config', unknown], {})).toThrow(
      /unknown tls setting "certificate"; known: cert, key, ca, clientAuth, handshakeTimeoutMs, remoting/,
    );
    const notObject = configFile({ tls: 'on' });
    expect(() => parseServerArgs(['--config', notObject], {})).toThrow(/"tls" must be an object/);
  });
});
