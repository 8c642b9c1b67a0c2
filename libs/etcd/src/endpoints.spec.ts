import { describe, expect, it } from 'vitest';
import { endpointName, parseEndpoints } from './endpoints.js';
import { EtcdEndpointsError } from './errors.js';

describe('parseEndpoints', () => {
  it('reads one or more HOST:PORT, names, IPv4 and bracketed IPv6', () => {
    expect(parseEndpoints('etcd://127.0.0.1:2379')).toEqual([{ host: '127.0.0.1', port: 2379 }]);
    expect(parseEndpoints('etcd://a.example:1,b-2:65535,[::1]:2379')).toEqual([
      { host: 'a.example', port: 1 },
      { host: 'b-2', port: 65535 },
      { host: '::1', port: 2379 },
    ]);
    expect(endpointName({ host: '::1', port: 2379 })).toBe('[::1]:2379');
  });

  it.each([
    ['', 'must start with etcd://'],
    ['http://h:1', 'must start with etcd://'],
    ['etcd://', 'no endpoint'],
    ['etcd://h:1,', 'an empty entry'],
    ['etcd://h', 'has no port'],
    ['etcd://h:', 'the port must be a number'],
    ['etcd://h:x1', 'the port must be a number'],
    ['etcd://h:0', 'the port must be 1–65535'],
    ['etcd://h:65536', 'the port must be 1–65535'],
    ['etcd://::1:2379', 'write an IPv6 address in brackets'],
    ['etcd://[::1]2379', 'an IPv6 address is written [ADDR]:PORT'],
    ['etcd://[nope]:1', 'is not an IPv6 address'],
    ['etcd://bad_host:1', 'is not a host name or address'],
    ['etcd://h:1,h:1', 'h:1 is listed twice'],
  ])('rejects %j (%s)', (spec, why) => {
    expect(() => parseEndpoints(spec)).toThrow(EtcdEndpointsError);
    expect(() => parseEndpoints(spec)).toThrow(why);
  });
});
