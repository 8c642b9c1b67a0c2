// The group's keys in etcd (docs/ha-design.md, decision 6) and their JSON values. Everything lives
// under `/apogee/<cluster>/<brokerName>/`:
//   epoch             the group's epoch, a decimal counter; changed only by a campaign's CAS
//   master            {brokerId, addr, haAddr, epoch}, on the master's lease (gone when it expires)
//   in-sync           {epoch, members:[brokerId…]}, written by the master by CAS on its mod revision
//   candidates/<id>   {endOffset}, on the candidate's lease: who is campaigning, and how far its log
//                     reaches, so the longest log campaigns first
//   preferred         {brokerId}: the broker started with --preferred-master (DLedger's preferred
//                     leader): it wins ties, and a master hands over to it once it has caught up
// Values are parsed strictly: a value another writer garbled is reported, never half-trusted.

export interface MasterRecord {
  readonly brokerId: number;
  /** The master's remoting address (clients, NameServer registration). */
  readonly addr: string;
  /** Its HA port, where replicas connect. */
  readonly haAddr: string;
  readonly epoch: number;
}

export interface InSyncRecord {
  readonly epoch: number;
  readonly members: readonly number[];
}

export interface CandidateRecord {
  readonly endOffset: number;
}

export interface PreferredRecord {
  readonly brokerId: number;
}

export class GroupKeys {
  readonly prefix: string;
  readonly preferred: string;
  readonly epoch: string;
  readonly master: string;
  readonly inSync: string;
  readonly candidates: string;

  constructor(cluster: string, brokerName: string) {
    for (const [what, v] of [
      ['cluster', cluster],
      ['brokerName', brokerName],
    ] as const) {
      if (v === '' || v.includes('/')) throw new RangeError(`the group controller's ${what} must be non-empty and without '/': ${JSON.stringify(v)}`);
    }
    this.prefix = `/apogee/${cluster}/${brokerName}/`;
    this.epoch = `${this.prefix}epoch`;
    this.master = `${this.prefix}master`;
    this.inSync = `${this.prefix}in-sync`;
    this.candidates = `${this.prefix}candidates/`;
    this.preferred = `${this.prefix}preferred`;
  }

  candidate(brokerId: number): string {
    return `${this.candidates}${brokerId}`;
  }
}

const isBrokerId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function object(text: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new SyntaxError(`${what} is not JSON: ${JSON.stringify(text.slice(0, 80))}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SyntaxError(`${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

export function parseMaster(text: string): MasterRecord {
  const o = object(text, 'master');
  const { brokerId, addr, haAddr, epoch } = o;
  if (!isBrokerId(brokerId) || typeof addr !== 'string' || typeof haAddr !== 'string' || !isCount(epoch)) {
    throw new SyntaxError(`master needs brokerId, addr, haAddr and epoch: ${text.slice(0, 120)}`);
  }
  return { brokerId, addr, haAddr, epoch };
}

export function parseInSync(text: string): InSyncRecord {
  const o = object(text, 'in-sync');
  const { epoch, members } = o;
  if (!isCount(epoch) || !Array.isArray(members) || !members.every(isBrokerId)) {
    throw new SyntaxError(`in-sync needs epoch and members (broker ids): ${text.slice(0, 120)}`);
  }
  return { epoch, members: [...new Set(members)].sort((a, b) => a - b) };
}

export function parseCandidate(text: string): CandidateRecord {
  const { endOffset } = object(text, 'candidate');
  if (!isCount(endOffset)) throw new SyntaxError(`candidate needs endOffset: ${text.slice(0, 120)}`);
  return { endOffset };
}

export function parsePreferred(text: string): PreferredRecord {
  const { brokerId } = object(text, 'preferred');
  if (!isBrokerId(brokerId)) throw new SyntaxError(`preferred needs brokerId: ${text.slice(0, 120)}`);
  return { brokerId };
}

export function parseEpoch(text: string): number {
  if (!/^[0-9]{1,15}$/.test(text)) throw new SyntaxError(`epoch is not a counter: ${JSON.stringify(text.slice(0, 40))}`);
  return Number(text);
}

export const encodeMaster = (m: MasterRecord): string => JSON.stringify({ brokerId: m.brokerId, addr: m.addr, haAddr: m.haAddr, epoch: m.epoch });
export const encodeInSync = (s: InSyncRecord): string => JSON.stringify({ epoch: s.epoch, members: s.members });
export const encodeCandidate = (c: CandidateRecord): string => JSON.stringify({ endOffset: c.endOffset });
export const encodePreferred = (p: PreferredRecord): string => JSON.stringify({ brokerId: p.brokerId });
