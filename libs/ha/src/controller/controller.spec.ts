// The group controller against a real 3-member etcd cluster (@apogee/etcd/test-etcd). Each test has
// its own group. Waits are bounded polls on what the controllers report; orderings are asserted
// between instants taken on one clock, never against wall-clock thresholds.
import { EtcdClient } from '@apogee/etcd';
import { type TestEtcd, skipWithoutEtcd, startEtcdCluster } from '@apogee/etcd/test-etcd';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CampaignInfo, type FenceInfo, GroupController, type RoleChange } from './group-controller.js';

interface Member {
  readonly id: number;
  readonly c: GroupController;
  readonly roles: Array<RoleChange & { at: number }>;
  readonly fenced: FenceInfo[];
  readonly campaigns: CampaignInfo[];
  readonly errors: Error[];
  /** Called with each role change, synchronously (to look at other members at that instant). */
  onRole?: (r: RoleChange) => void;
}

const now = () => performance.now();
const running: Member[] = [];
afterEach(() => {
  for (const m of running.splice(0)) m.c.stop();
});

let etcd: TestEtcd;
let group = 0;

function member(g: string, id: number, endOffset: number, endpoints = etcd.endpoints): Member {
  const m: Member = {
    id,
    roles: [],
    fenced: [],
    campaigns: [],
    errors: [],
    c: new GroupController({
      etcd: endpoints,
      cluster: 'test',
      brokerName: g,
      brokerId: id,
      addr: `127.0.0.1:${10911 + id}`,
      haAddr: `127.0.0.1:${20911 + id}`,
      endOffset: () => endOffset,
      onRole: (r) => {
        m.roles.push({ ...r, at: now() });
        m.onRole?.(r);
      },
      onFenced: (f) => m.fenced.push(f),
      onCampaign: (c) => m.campaigns.push(c),
      onError: (e) => m.errors.push(e),
      now,
    }),
  };
  running.push(m);
  return m;
}

async function until(what: string, ok: () => boolean, boundMs = 20_000): Promise<void> {
  const deadline = now() + boundMs;
  while (!ok()) {
    if (now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const masterOf = (ms: readonly Member[]) => ms.filter((m) => m.c.status().role === 'master');
/** Every member in `ms` agrees that `master` leads at `epoch` (the master itself included). */
const agreed = (ms: readonly Member[], master: number, epoch: number) => () =>
  ms.every((m) => m.c.status().master?.brokerId === master && m.c.status().epoch === epoch && m.c.status().role === (m.id === master ? 'master' : 'replica'));

describe.skipIf(skipWithoutEtcd)('GroupController', () => {
  beforeAll(async () => {
    etcd = await startEtcdCluster(3);
  });
  afterAll(async () => {
    await etcd?.stop();
  });

  it('three members of a fresh group elect exactly one master, the one with the longest log; the others follow it', async () => {
    const g = `g${group++}`;
    const ms = [member(g, 1, 100), member(g, 2, 300), member(g, 3, 200)];
    await Promise.all(ms.map((m) => m.c.start()));
    await until('one master that all follow', agreed(ms, 2, 1));
    expect(masterOf(ms).map((m) => m.id)).toEqual([2]);
    expect(ms.map((m) => m.c.canAck())).toEqual([false, true, false]);
    expect(ms.flatMap((m) => m.campaigns.filter((c) => c.won))).toEqual([{ epoch: 1, endOffset: 300, won: true }]);
    const s = ms[1]!.c.status();
    expect(s).toMatchObject({ phase: 'running', role: 'master', epoch: 1, inSync: { epoch: 1, members: [2] }, canAck: true });
    expect(s.master).toEqual({ brokerId: 2, addr: '127.0.0.1:10913', haAddr: '127.0.0.1:20913', epoch: 1 });
    expect(s.lease?.validForMs).toBeGreaterThan(0);
    // The replicas were told whom to follow.
    expect(ms[0]!.roles.at(-1)).toMatchObject({ role: 'replica', epoch: 1, master: { brokerId: 2 } });
    // What etcd holds: the master key on the master's lease.
    const client = new EtcdClient({ endpoints: etcd.endpoints });
    try {
      const kv = await client.get(`/apogee/test/${g}/master`);
      expect(kv?.lease).toBe(s.lease?.id);
      expect((await client.get(`/apogee/test/${g}/epoch`))?.value.toString()).toBe('1');
    } finally {
      client.close();
    }
  });

  it('replaces a killed master (keepalives stop, no resign) from the in-sync set only, the epoch one higher at each change', async () => {
    const g = `g${group++}`;
    const [a, b, c] = [member(g, 1, 300), member(g, 2, 200), member(g, 3, 100)] as const;
    const ms = [a, b, c];
    await Promise.all(ms.map((m) => m.c.start()));
    await until('a to lead', agreed(ms, 1, 1));
    expect(await a.c.setInSync([1, 2])).toBe(true);
    await until('everyone to see in-sync {1,2}', () => ms.every((m) => m.c.status().inSync?.members.join() === '1,2'));

    a.c.stop(); // like SIGKILL: the lease runs out on etcd
    await until('b to lead at epoch 2', agreed([b, c], 2, 2));
    expect(c.campaigns).toEqual([]); // c is not in the in-sync set
    expect(b.campaigns.filter((x) => x.won)).toEqual([{ epoch: 2, endOffset: 200, won: true }]);

    expect(await b.c.setInSync([2, 3])).toBe(true);
    await until('c to see in-sync {2,3}', () => c.c.status().inSync?.members.join() === '2,3');
    b.c.stop();
    await until('c to lead at epoch 3', agreed([c], 3, 3));
    expect(c.roles.filter((r) => r.role === 'master').map((r) => r.epoch)).toEqual([3]);
    // The new master alone is in sync at its epoch until replicas catch up and join again.
    expect(c.c.status().inSync).toEqual({ epoch: 3, members: [3] });
  });

  it('a member outside the in-sync set never campaigns, even with no master left; a restarted in-sync member takes over', async () => {
    const g = `g${group++}`;
    const [a, b] = [member(g, 1, 300), member(g, 2, 200)] as const;
    await Promise.all([a.c.start(), b.c.start()]);
    await until('a to lead', agreed([a, b], 1, 1));
    expect(b.c.status().inSync).toEqual({ epoch: 1, members: [1] });
    a.c.stop();
    await until('b to see the master gone', () => b.c.status().master === null);
    // Longer than any campaign of b's could take to show (a window and two rank steps), and nothing.
    await new Promise((r) => setTimeout(r, 1500));
    expect(b.campaigns).toEqual([]);
    expect(b.c.status()).toMatchObject({ role: 'replica', master: null, epoch: 1 });

    const a2 = member(g, 1, 300);
    await a2.c.start();
    await until('the restarted a to lead at epoch 2', agreed([a2, b], 1, 2));
    expect(b.campaigns).toEqual([]);
  });

  it('resign hands over: canAck() false at once, the master key and lease go, another in-sync member wins at epoch + 1', async () => {
    const g = `g${group++}`;
    const [a, b, c] = [member(g, 1, 300), member(g, 2, 200), member(g, 3, 100)] as const;
    const ms = [a, b, c];
    await Promise.all(ms.map((m) => m.c.start()));
    await until('a to lead', agreed(ms, 1, 1));
    expect(await a.c.setInSync([1, 2, 3])).toBe(true);
    await until('everyone to see in-sync {1,2,3}', () => ms.every((m) => m.c.status().inSync?.members.length === 3));
    const lease = a.c.status().lease!.id;

    const resigned = a.c.resign();
    expect(a.c.canAck()).toBe(false);
    expect(await resigned).toBe(true);
    await until('b (the longer log) to lead at epoch 2', agreed(ms, 2, 2));
    expect(a.campaigns.length).toBe(1); // its first, at epoch 1: none during the hold-off
    expect(a.fenced).toEqual([]);
    const client = new EtcdClient({ endpoints: etcd.endpoints });
    try {
      expect((await client.leaseTimeToLive(lease)).ttl).toBe(-1);
    } finally {
      client.close();
    }
    expect(await a.c.resign()).toBe(false);
    expect(await a.c.setInSync([1, 2])).toBe(false);
    await expect(b.c.setInSync([1, 3])).rejects.toThrow(RangeError);
  });

  it('reads the state afresh when the history its watch needs was compacted away', async () => {
    const g = `g${group++}`;
    const [x, y, z] = etcd.members;
    const rest = `etcd://${y!.endpoint},${z!.endpoint}`;
    const a = member(g, 1, 300, rest);
    const b = member(g, 2, 200, `etcd://${x!.endpoint}`);
    await a.c.start();
    await until('a to lead', agreed([a], 1, 1));
    await b.c.start();
    await until('b to follow', agreed([a, b], 1, 1));
    x!.signal('SIGKILL');
    await x!.exited();
    // While b's only member is down: a change, then the history compacted up to it. (If x led the
    // cluster, the others elect a leader first, and a may have lost and won again meanwhile.)
    let written = false;
    await until('a to write the in-sync set', () => {
      if (a.c.canAck())
        void a.c.setInSync([1, 2]).then(
          (ok) => (written ||= ok),
          () => {},
        );
      return written;
    });
    const client = new EtcdClient({ endpoints: rest });
    try {
      const { header } = await client.put(`/apogee/test/${g}-elsewhere`, 'later');
      await client.compact(header.revision);
    } finally {
      client.close();
    }
    await x!.start();
    // b reads the group afresh and sees it as a does: the set a wrote, or — if x led the cluster and
    // a lost its lease meanwhile and won again — the newer epoch's, which an election resets to a.
    await until('b to see the in-sync set as a does', () => {
      const seen = b.c.status().inSync;
      return seen !== null && JSON.stringify(seen) === JSON.stringify(a.c.status().inSync) && (seen.members.includes(2) || seen.epoch > 1);
    });
    expect(b.errors.map((e) => e.message).filter((m) => m.includes('compacted'))).toHaveLength(1);
    // (b is in the in-sync set now: if the leader change cost a its lease, b may lead.)
    await until('a and b to agree on one master', () => {
      const leaders = masterOf([a, b]);
      return leaders.length === 1 && agreed([a, b], leaders[0]!.id, leaders[0]!.c.status().epoch)();
    });
  });

  it('reports a garbled master key and neither follows nor campaigns on it', async () => {
    const g = `g${group++}`;
    const client = new EtcdClient({ endpoints: etcd.endpoints });
    try {
      await client.put(`/apogee/test/${g}/master`, '{"brokerId":"one"}');
      const a = member(g, 1, 300);
      await a.c.start();
      await until('the error', () => a.errors.some((e) => e.message.includes('master needs brokerId')));
      expect(a.c.status()).toMatchObject({ role: 'replica', master: null, canAck: false, campaigning: false });
      await client.delete(`/apogee/test/${g}/master`);
      await until('a to lead once the key is gone', agreed([a], 1, 1));
    } finally {
      client.close();
    }
  });

  it('a master cut off from etcd (its only member SIGSTOPped) stops acking before its lease expires and a new master is seen', async () => {
    const g = `g${group++}`;
    const [x, y, z] = etcd.members;
    const a = member(g, 1, 300, `etcd://${x!.endpoint}`);
    const rest = `etcd://${y!.endpoint},${z!.endpoint}`;
    const [b, c] = [member(g, 2, 200, rest), member(g, 3, 100, rest)] as const;
    const ms = [a, b, c];
    await Promise.all(ms.map((m) => m.c.start()));
    await until('a to lead', agreed(ms, 1, 1));
    expect(await a.c.setInSync([1, 2, 3])).toBe(true);
    await until('everyone to see in-sync {1,2,3}', () => ms.every((m) => m.c.status().inSync?.members.length === 3));

    // The instant b learns the master key is gone (its lease expired on etcd), look at a.
    let goneAt = 0;
    let aCouldAckThen: boolean | null = null;
    b.onRole = (r) => {
      if (goneAt === 0 && r.role === 'replica' && r.master === null) {
        goneAt = now();
        aCouldAckThen = a.c.canAck();
      }
    };
    const stoppedAt = now();
    try {
      await x!.pause();
      await until('a new master at epoch 2', () => masterOf([b, c]).length === 1 && b.c.status().epoch === 2);
      expect(goneAt).toBeGreaterThan(0);
      expect(aCouldAckThen).toBe(false);
      expect(a.fenced.length).toBe(1);
      const fence = a.fenced[0]!;
      expect(fence.reason).toContain('no keepalive confirmed');
      expect(fence.lastConfirmedAt).toBeLessThan(fence.at);
      expect(stoppedAt).toBeLessThan(fence.at);
      expect(fence.at).toBeLessThan(goneAt);
      expect(a.c.canAck()).toBe(false);
      expect(a.c.status().role).toBe('replica');
      expect(b.campaigns.some((w) => w.won) || c.campaigns.some((w) => w.won)).toBe(true);
    } finally {
      x!.resume();
    }
    const winner = masterOf([b, c])[0]!.id;
    await until('a, back in touch, to follow the new master', agreed(ms, winner, 2));
    expect(a.c.canAck()).toBe(false);
  });
});
