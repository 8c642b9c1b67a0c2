// `etcd://H:P[,H:P…]`, the form of `--controller` (docs/ha-design.md, decision 1). Hosts are names,
// IPv4 addresses or bracketed IPv6 addresses; the port is required (etcd's client port is 2379 by
// convention, but a silent default hides a wrong configuration).
import net from 'node:net';
import { EtcdEndpointsError } from './errors.js';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

const SCHEME = 'etcd://';
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function parseEndpoints(spec: string): Endpoint[] {
  const fail = (why: string): never => {
    throw new EtcdEndpointsError(`bad etcd endpoints ${JSON.stringify(spec)}: ${why} (expected etcd://HOST:PORT[,HOST:PORT…])`);
  };
  if (!spec.startsWith(SCHEME)) fail(`must start with ${SCHEME}`);
  const list = spec.slice(SCHEME.length);
  if (list === '') fail('no endpoint');
  const seen = new Set<string>();
  return list.split(',').map((item) => {
    const endpoint = parseOne(item, fail);
    const key = endpointName(endpoint);
    if (seen.has(key)) fail(`${key} is listed twice`);
    seen.add(key);
    return endpoint;
  });
}

function parseOne(item: string, fail: (why: string) => never): Endpoint {
  if (item === '') fail('an empty entry');
  let host: string;
  let portText: string;
  if (item.startsWith('[')) {
    const close = item.indexOf(']');
    if (close < 0 || item[close + 1] !== ':') fail(`${JSON.stringify(item)}: an IPv6 address is written [ADDR]:PORT`);
    host = item.slice(1, close);
    portText = item.slice(close + 2);
    if (!net.isIPv6(host)) fail(`${JSON.stringify(host)} is not an IPv6 address`);
  } else {
    const colon = item.lastIndexOf(':');
    if (colon < 0) fail(`${JSON.stringify(item)} has no port`);
    host = item.slice(0, colon);
    portText = item.slice(colon + 1);
    if (host.includes(':')) fail(`${JSON.stringify(item)}: write an IPv6 address in brackets`);
    if (!net.isIPv4(host) && !HOSTNAME.test(host)) fail(`${JSON.stringify(host)} is not a host name or address`);
  }
  if (!/^[0-9]{1,5}$/.test(portText)) fail(`${JSON.stringify(item)}: the port must be a number`);
  const port = Number(portText);
  if (port < 1 || port > 65535) fail(`${JSON.stringify(item)}: the port must be 1–65535`);
  return { host, port };
}

/** `H:P` (`[H]:P` for IPv6): how errors and logs name an endpoint. */
export function endpointName(e: Endpoint): string {
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}
