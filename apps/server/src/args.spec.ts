import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseServerArgs } from './args.js';

describe('server command line', () => {
  it('has the documented defaults', () => {
    const a = parseServerArgs([], {});
    expect(a).toMatchObject({
      dataDir: './data',
      namesrvPort: 9876,
      brokerPort: 10911,
      mqttPort: 1883,
      mqttWsPort: 8083,
      amqpPort: 5672,
      httpPort: 8080,
      flush: 'ASYNC_FLUSH',
      listenHost: '127.0.0.1',
      logLevel: 'info',
    });
  });

  it('takes the NameServers of a broker alone, and requires them for --role broker', () => {
    expect(parseServerArgs([], {})).toMatchObject({ role: 'all', namesrvAddrs: [] });
    expect(parseServerArgs(['--namesrv', '10.0.0.1:9876;ns2.example:9877'], {}).namesrvAddrs).toEqual(['10.0.0.1:9876', 'ns2.example:9877']);
    expect(parseServerArgs(['--role', 'broker'], { APOGEE_NAMESRV_ADDR: '[::1]:9876, 127.0.0.1:9877' })).toMatchObject({
      role: 'broker',
      namesrvAddrs: ['[::1]:9876', '127.0.0.1:9877'],
    });
    expect(() => parseServerArgs(['--role', 'broker'], {})).toThrow(/needs --namesrv HOST:PORT/);
    expect(() => parseServerArgs(['--namesrv', 'localhost'], {})).toThrow(/"localhost" is not HOST:PORT/);
    expect(() => parseServerArgs(['--namesrv', 'a:99999'], {})).toThrow(/not HOST:PORT/);
    expect(() => parseServerArgs(['--namesrv', ';'], {})).toThrow(/at least one NameServer/);
    expect(() => parseServerArgs(['--role', 'master'], {})).toThrow(/role must be all or broker/);
    expect(parseServerArgs([], {}).haPort).toBeNull();
    expect(parseServerArgs(['--ha-port', '10912'], {}).haPort).toBe(10912);
    expect(parseServerArgs(['--ha-port', 'off'], { APOGEE_HA_PORT: '10912' }).haPort).toBeNull();
    expect(() => parseServerArgs(['--ha-port', 'x'], {})).toThrow(/port must be an integer/);
    const replica = parseServerArgs(['--ha-master', '10.0.0.1:10912', '--broker-id', '2'], {});
    expect([replica.haMaster, replica.brokerId]).toEqual(['10.0.0.1:10912', 2]);
    expect(parseServerArgs([], { APOGEE_HA_MASTER: 'm:1' }).haMaster).toBe('m:1');
    expect(parseServerArgs([], {}).haMaster).toBeNull();
    expect(() => parseServerArgs(['--ha-master', 'a:1;b:2'], {})).toThrow(/give one HOST:PORT/);
    expect(() => parseServerArgs(['--ha-master', 'nope'], {})).toThrow(/not HOST:PORT/);
    expect(() => parseServerArgs(['--ha-master', 'm:1', '--broker-id', '0'], {})).toThrow(/needs its own id of 1 or more/);
    expect(() => parseServerArgs(['--broker-id', '3'], {})).toThrow(/registers a replica: give the master/);
    expect(() => parseServerArgs(['--ha-master', 'm:1', '--ha-port', '10912'], {})).toThrow(/drop --ha-port/);
    expect(() => parseServerArgs(['--broker-id', '-1'], {})).toThrow(/broker id must be an integer/);
    const sync = parseServerArgs(['--ha-port', '10912', '--replication', 'sync', '--min-in-sync-replicas', '2'], {});
    expect([sync.replication, sync.minInSyncReplicas]).toEqual(['sync', 2]);
    expect([parseServerArgs([], {}).replication, parseServerArgs([], {}).minInSyncReplicas]).toEqual(['async', 1]);
    expect(() => parseServerArgs(['--replication', 'sync'], {})).toThrow(/give the master an --ha-port/);
    expect(() => parseServerArgs(['--replication', 'semi'], {})).toThrow(/replication must be sync or async/);
    expect(() => parseServerArgs(['--min-in-sync-replicas', '0'], {})).toThrow(/integer 1-64/);
    const ctl = parseServerArgs(['--controller', 'etcd://10.0.0.1:2379,10.0.0.2:2379', '--broker-id', '2', '--ha-port', '10912'], {});
    expect([ctl.controller, ctl.brokerId]).toEqual(['etcd://10.0.0.1:2379,10.0.0.2:2379', 2]);
    expect(parseServerArgs([], {}).controller).toBeNull();
    expect(() => parseServerArgs(['--controller', 'http://x:1', '--broker-id', '1', '--ha-port', '1'], {})).toThrow(/--controller/);
    expect(() => parseServerArgs(['--controller', 'etcd://h:1', '--ha-port', '1'], {})).toThrow(/own --broker-id/);
    expect(() => parseServerArgs(['--controller', 'etcd://h:1', '--broker-id', '1'], {})).toThrow(/needs an --ha-port/);
    expect(() => parseServerArgs(['--controller', 'etcd://h:1', '--broker-id', '1', '--ha-port', '1', '--ha-master', 'm:1'], {})).toThrow(/drop --ha-master/);
    expect(parseServerArgs(['--controller', 'etcd://h:1', '--broker-id', '1', '--ha-port', '1', '--preferred-master'], {}).preferredMaster).toBe(true);
    expect(parseServerArgs(['--controller', 'etcd://h:1', '--broker-id', '1', '--ha-port', '1'], { APOGEE_PREFERRED_MASTER: 'true' }).preferredMaster).toBe(
      true,
    );
    expect(parseServerArgs([], {}).preferredMaster).toBe(false);
    expect(() => parseServerArgs(['--preferred-master'], {})).toThrow(/give --controller too/);
    expect(() => parseServerArgs([], { APOGEE_PREFERRED_MASTER: 'yes' })).toThrow(/true or false/);
  });

  it('takes the log level from --log-level, APOGEE_LOG_LEVEL or the config file, in that order', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'apg-args-')), 'c.json');
    fs.writeFileSync(file, JSON.stringify({ logLevel: 'debug' }));
    expect(parseServerArgs(['--config', file], {}).logLevel).toBe('debug');
    expect(parseServerArgs(['--config', file], { APOGEE_LOG_LEVEL: 'error' }).logLevel).toBe('error');
    expect(parseServerArgs(['--config', file, '--log-level=WARN'], { APOGEE_LOG_LEVEL: 'error' }).logLevel).toBe('warn');
    expect(() => parseServerArgs(['--log-level', 'bogus'], {})).toThrow(
      /--log-level: log level must be one of trace, debug, info, warn, error, fatal, silent; got "bogus"/,
    );
    fs.writeFileSync(file, JSON.stringify({ logLevel: 'loud' }));
    expect(() => parseServerArgs(['--config', file], {})).toThrow(/logLevel \(--log-level\): log level must be one of/);
  });

  it('lets flags override the environment, which overrides the config file', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'apg-args-')), 'c.json');
    fs.writeFileSync(file, JSON.stringify({ brokerPort: 1, mqttPort: 2, amqpPort: 3, flush: 'sync' }));
    const a = parseServerArgs(['--config', file, '--broker-port=7', '--data-dir', '/x'], { APOGEE_MQTT_PORT: '9' });
    expect(a).toMatchObject({ brokerPort: 7, mqttPort: 9, amqpPort: 3, flush: 'SYNC_FLUSH', dataDir: '/x' });
  });

  it('switches an endpoint off with `off` (flag, environment or config file); the broker and NameServer cannot be', () => {
    expect(parseServerArgs(['--mqtt-port', 'off', '--amqp-port=OFF'], {})).toMatchObject({ mqttPort: null, amqpPort: null, mqttWsPort: 8083 });
    expect(parseServerArgs([], { APOGEE_MQTT_WS_PORT: 'off' })).toMatchObject({ mqttWsPort: null, mqttPort: 1883 });
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'apg-args-')), 'c.json');
    fs.writeFileSync(file, JSON.stringify({ amqpPort: 'off' }));
    expect(parseServerArgs(['--config', file], {})).toMatchObject({ amqpPort: null });
    expect(() => parseServerArgs(['--broker-port', 'off'], {})).toThrow(/port must be an integer/);
    expect(() => parseServerArgs(['--namesrv-port', 'off'], {})).toThrow(/port must be an integer/);
  });

  it('rejects unknown flags and bad values with a clear message', () => {
    expect(() => parseServerArgs(['--nope'], {})).toThrow(/unknown option --nope/);
    expect(() => parseServerArgs(['--broker-port', 'x'], {})).toThrow(/port must be an integer/);
    expect(() => parseServerArgs(['--flush', 'maybe'], {})).toThrow(/flush must be sync or async/);
    expect(() => parseServerArgs(['--data-dir'], {})).toThrow(/needs a value/);
  });
});
