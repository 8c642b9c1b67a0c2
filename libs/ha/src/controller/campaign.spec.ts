import { describe, expect, it } from 'vitest';
import { campaignTxn, eligible, rankOf, syntheticKv } from './campaign.js';
import { GroupView } from './group-view.js';
import { GroupKeys, encodeCandidate, encodeInSync, encodePreferred } from './keys.js';

const keys = new GroupKeys('C', 'b');
const self = { brokerId: 2, addr: 'h:1', haAddr: 'h:2' };

function view(inSync: number[] | null, candidates: Array<[number, number]>): GroupView {
  const v = new GroupView(keys);
  let rev = 1;
  v.put(syntheticKv(keys.epoch, '4', rev++, '0'));
  if (inSync) v.put(syntheticKv(keys.inSync, encodeInSync({ epoch: 4, members: inSync }), rev++, '0'));
  for (const [id, endOffset] of candidates) v.put(syntheticKv(keys.candidate(id), encodeCandidate({ endOffset }), rev++, '9'));
  return v;
}

describe('campaign', () => {
  it('lets in-sync members campaign, or anyone in a fresh group', () => {
    expect(eligible(view(null, []), 7)).toBe(true);
    expect(eligible(view([1, 2], []), 2)).toBe(true);
    expect(eligible(view([1, 2], []), 3)).toBe(false);
  });

  it('ranks the eligible candidates by end offset, then broker id; the ineligible do not count', () => {
    const v = view(
      [1, 2, 3],
      [
        [1, 500],
        [2, 200],
        [3, 200],
        [4, 900], // not in sync
      ],
    );
    expect(rankOf(v, 2, 200)).toBe(1); // behind 1 (longer log); ahead of 3 (same offset, higher id)
    expect(rankOf(v, 3, 200)).toBe(2);
    expect(rankOf(v, 1, 500)).toBe(0);
  });

  it('puts the preferred master first among candidates with the same log end, never ahead of a longer log', () => {
    const v = view(
      [1, 2, 3],
      [
        [1, 200],
        [2, 200],
        [3, 300],
      ],
    );
    v.put(syntheticKv(keys.preferred, encodePreferred({ brokerId: 2 }), 99, '0'));
    expect(rankOf(v, 2, 200)).toBe(1); // only the longer log (3) goes first
    expect(rankOf(v, 1, 200)).toBe(2); // the preferred 2 wins the tie although 1 has the lower id
    expect(rankOf(v, 3, 300)).toBe(0);
  });

  it('builds one txn: master absent and epoch/in-sync unchanged → epoch+1, master on the lease, in-sync reset to the new master', () => {
    const fresh = campaignTxn(keys, view(null, []), self, '77');
    expect(fresh.master).toEqual({ ...self, epoch: 5 });
    expect(fresh.txn.compare).toEqual([
      { key: keys.master, target: 'CREATE', createRevision: 0 },
      { key: keys.epoch, target: 'MOD', modRevision: 1 },
      { key: keys.inSync, target: 'MOD', modRevision: 0 },
    ]);
    expect(
      fresh.txn.success?.map((op) =>
        'put' in op ? `put ${op.put.key} ${op.put.value} ${op.put.lease ?? '-'}` : 'delete' in op ? `delete ${op.delete.key}` : '?',
      ),
    ).toEqual([
      `put ${keys.epoch} 5 -`,
      `put ${keys.master} {"brokerId":2,"addr":"h:1","haAddr":"h:2","epoch":5} 77`,
      `put ${keys.inSync} {"epoch":5,"members":[2]} -`,
      `delete ${keys.candidate(2)}`,
    ]);
    const later = campaignTxn(keys, view([1, 2], []), self, '77');
    expect(later.txn.compare[2]).toEqual({ key: keys.inSync, target: 'MOD', modRevision: 2 });
    expect(later.txn.success).toHaveLength(4);
    expect(later.applied(10).puts.map((kv) => [kv.key.toString(), kv.value.toString(), kv.modRevision, kv.lease])).toEqual([
      [keys.epoch, '5', 10, '0'],
      [keys.master, '{"brokerId":2,"addr":"h:1","haAddr":"h:2","epoch":5}', 10, '77'],
      [keys.inSync, '{"epoch":5,"members":[2]}', 10, '0'],
    ]);
  });
});
