import type { QoS } from 'mqtt-packet';

/** Metadata namespace of persistent sessions in the store. */
export const SESSION_NAMESPACE = 'mqtt-session';

/** What survives a restart of a persistent session (offsets live in the store's consumer offsets). */
export interface SessionRecord {
  v: 1;
  /** Seconds the session outlives its connection; -1 = forever (3.1.1 clean=false). */
  expirySeconds: number;
  /** When the last connection ended (ms), 0 while connected. */
  disconnectedAt: number;
  subs: Array<{ filter: string; qos: QoS; nl?: boolean; rap?: boolean; sid?: number }>;
  /** Inbound QoS 2 packet ids not yet released, with the UNIQ_KEY of their message (plain ids: stored). */
  pendingRel: Array<number | [number, string]>;
  /** Outbound QoS 2 packet ids awaiting PUBCOMP (absent in records written before outbound QoS 2). */
  pendingComp?: number[];
  /**
   * The user who created the session (null: an anonymous client); only they may resume it. Absent
   * in records written before sessions had owners: the next user to connect with the id owns it.
   */
  owner?: string | null;
}

export function encodeSessionRecord(r: SessionRecord): Buffer {
  return Buffer.from(JSON.stringify(r), 'utf8');
}

/** Parses a stored record; undefined when it is not one (a damaged record is dropped, not fatal). */
export function decodeSessionRecord(b: Buffer): SessionRecord | undefined {
  try {
    const r = JSON.parse(b.toString('utf8')) as SessionRecord;
    if (r?.v !== 1 || !Array.isArray(r.subs) || !Array.isArray(r.pendingRel) || typeof r.expirySeconds !== 'number') return undefined;
    return r;
  } catch {
    return undefined;
  }
}

/** True when a disconnected session has outlived its expiry at `now`. */
export function isExpired(r: SessionRecord, now: number): boolean {
  return r.disconnectedAt > 0 && r.expirySeconds >= 0 && now - r.disconnectedAt >= r.expirySeconds * 1000;
}
