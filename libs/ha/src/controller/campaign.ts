// The campaign's pure parts: who may campaign, in what order, and the one txn that makes a master
// (docs/ha-design.md, decision 6). No I/O: GroupController sends what these build.
import type { KeyValue, LeaseId, Txn, TxnOp } from '@apogee/etcd';
import type { GroupView } from './group-view.js';
import { type GroupKeys, type MasterRecord, encodeInSync, encodeMaster } from './keys.js';

/** May `brokerId` campaign: it is in the in-sync set, or the group has none yet (a fresh group). A
 * garbled in-sync or epoch key lets nobody campaign (an operator must look). */
export function eligible(view: GroupView, brokerId: number): boolean {
  if (view.epoch?.error) return false;
  const s = view.inSync;
  return s === null || (s.value !== null && s.value.members.includes(brokerId));
}

/** How many eligible candidates campaign before `self`: longer logs first, then the preferred master, then lower broker ids. */
export function rankOf(view: GroupView, self: number, endOffset: number): number {
  const preferred = view.preferred?.value?.brokerId ?? null;
  let ahead = 0;
  for (const [id, e] of view.candidates) {
    if (id === self || e.value === null || !eligible(view, id)) continue;
    const tieFirst = id === preferred || (self !== preferred && id < self);
    if (e.value.endOffset > endOffset || (e.value.endOffset === endOffset && tieFirst)) ahead++;
  }
  return ahead;
}

export interface CampaignTxn {
  readonly txn: Txn;
  readonly master: MasterRecord;
  /** What the keys hold after the txn succeeded at `revision` (to apply to the view at once). */
  readonly applied: (revision: number) => { puts: KeyValue[]; deletes: string[] };
}

/** compare master absent (CREATE 0), epoch and in-sync unchanged since the view saw them (MOD; 0 =
 * absent) → put epoch+1, master on `lease`, in-sync {epoch+1, [self]}; drop our candidate key. */
export function campaignTxn(keys: GroupKeys, view: GroupView, self: Omit<MasterRecord, 'epoch'>, lease: LeaseId): CampaignTxn {
  const epoch = (view.epoch?.value ?? 0) + 1;
  const master: MasterRecord = { ...self, epoch };
  const values: Array<[string, string, LeaseId]> = [
    [keys.epoch, String(epoch), '0'],
    [keys.master, encodeMaster(master), lease],
  ];
  // The new master alone is in sync at its epoch (as RocketMQ's controller resets the SyncStateSet):
  // an old member listed from the previous epoch may lack what this master acknowledges before
  // that member catches up and joins again, so it must not stay electable.
  values.push([keys.inSync, encodeInSync({ epoch, members: [self.brokerId] }), '0']);
  const success: TxnOp[] = [
    ...values.map(([key, value, l]): TxnOp => ({ put: { key, value, ...(l !== '0' ? { lease: l } : {}) } })),
    { delete: { key: keys.candidate(self.brokerId) } },
  ];
  return {
    master,
    txn: {
      compare: [
        { key: keys.master, target: 'CREATE', createRevision: 0 },
        { key: keys.epoch, target: 'MOD', modRevision: view.epoch?.modRevision ?? 0 },
        { key: keys.inSync, target: 'MOD', modRevision: view.inSync?.modRevision ?? 0 },
      ],
      success,
    },
    applied: (revision) => ({
      puts: values.map(([key, value, l]) => syntheticKv(key, value, revision, l)),
      deletes: [keys.candidate(self.brokerId)],
    }),
  };
}

/** A key-value as our own successful txn left it at `revision`. */
export function syntheticKv(key: string, value: string, revision: number, lease: LeaseId): KeyValue {
  return { key: Buffer.from(key), value: Buffer.from(value), createRevision: revision, modRevision: revision, version: 1, lease };
}
