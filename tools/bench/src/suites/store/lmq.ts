/** LMQ naming and INNER_MULTI_DISPATCH properties shared by the LMQ scenarios. */
import { LMQ_PREFIX, MULTI_DISPATCH_SEPARATOR, PropertyKey } from '@apogee/message';

export function lmqName(prefix: string, n: number): string {
  return `${LMQ_PREFIX}${prefix}/${n}`;
}

export type DispatchProperties = Readonly<Record<string, string>>;

export function dispatchTo(names: readonly string[]): DispatchProperties {
  return { [PropertyKey.INNER_MULTI_DISPATCH]: names.join(MULTI_DISPATCH_SEPARATOR) };
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * Properties for a rotating pool: message i goes to LMQs (i·k + j) mod pool, j < k. The cycle
 * repeats every pool / gcd(k, pool) messages, so it is built once; index it with i % length.
 */
export function rotatingDispatch(prefix: string, k: number, pool: number): DispatchProperties[] {
  if (k > pool) throw new RangeError(`fan-out ${k} exceeds the pool of ${pool} LMQs`);
  const period = pool / gcd(k, pool);
  const names = Array.from({ length: pool }, (_, n) => lmqName(prefix, n));
  return Array.from({ length: period }, (_, i) => dispatchTo(Array.from({ length: k }, (_, j) => names[(i * k + j) % pool]!)));
}
