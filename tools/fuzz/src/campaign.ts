import net from 'node:net';
import type { ProtocolFrames } from './frames/protocol.js';
import { everyEndpointAnswers } from './liveness.js';
import { type Mutation, mutate } from './mutate.js';
import { Prng } from './prng.js';
import type { FuzzedServer } from './server.js';

export interface CampaignOptions {
  /** The protocol's frame generators. */
  frames: ProtocolFrames;
  /** Frames to send in all (handshakes included). */
  totalFrames: number;
  /** Connections open at once (one batch). */
  concurrency: number;
  /** Frames each connection sends after its handshake. */
  framesPerConnection: number;
  seed: number;
  /** Share of frames mutated. Default 1/3. */
  mutatedShare?: number;
  /** How long a connection waits after its last write for the server to close it before it closes itself. Default 200 ms. */
  lingerMs?: number;
  /** Stop after this long even when fewer frames were sent. Default 600 s. */
  maxSeconds?: number;
  /** Called after each batch (progress lines). */
  onBatch?: (report: CampaignReport) => void;
}

export interface CampaignReport {
  protocol: string;
  seed: number;
  frames: number;
  mutated: number;
  /** Mutated frames by kind. */
  mutations: Partial<Record<Mutation, number>>;
  bytes: number;
  connections: number;
  /** Connections the server closed (or reset) before the client closed them. */
  closedByServer: number;
  batches: number;
  seconds: number;
  framesPerSecond: number;
  rssBeforeMiB: number;
  rssMaxMiB: number;
  rssAfterMiB: number;
  /** The run stopped at maxSeconds before totalFrames. */
  stoppedEarly: boolean;
  /** What went wrong: the server died, an endpoint stopped answering (empty when all held). */
  failures: string[];
}

/** Per-connection multipliers of the mutated share; their mean is 1. */
const SHARE_SPREAD = [0.06, 0.3, 1, 2.64];

interface ConnectionOutcome {
  closedByServer: boolean;
}

/**
 * Sends one connection's bytes (handshake and frames, some mutated) in a few writes split at
 * random points, reads and drops whatever the server answers, and resolves once the server closed
 * the connection or `lingerMs` after the last write.
 */
function runConnection(port: number, chunks: Buffer[], rng: Prng, lingerMs: number): Promise<ConnectionOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let done = false;
    let ours = false;
    const finish = (byServer: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(linger);
      resolve({ closedByServer: byServer });
      socket.destroy();
    };
    let linger: NodeJS.Timeout | undefined;
    socket.on('data', () => {});
    socket.on('error', () => finish(!ours));
    socket.on('close', () => finish(!ours));
    socket.once('connect', () => {
      const all = Buffer.concat(chunks);
      let at = 0;
      const pieces = 1 + rng.int(4);
      for (let i = 0; i < pieces && !socket.destroyed; i++) {
        const end = i === pieces - 1 ? all.length : Math.min(all.length, at + rng.int(all.length - at + 1));
        socket.write(all.subarray(at, end));
        at = end;
      }
      linger = setTimeout(() => {
        ours = true;
        finish(false);
      }, lingerMs);
    });
  });
}

/**
 * A bounded fuzz campaign against a running server: batches of `concurrency` connections, each
 * sending a valid handshake and `framesPerConnection` valid frames of which about a third are
 * mutated (bit flips, lying lengths and counts, truncation, inserted and duplicated bytes,
 * garbage); after every batch a round trip on every endpoint and the server's resident memory.
 * Every byte follows from `seed`.
 */
export async function runCampaign(server: FuzzedServer, opts: CampaignOptions): Promise<CampaignReport> {
  const rng = new Prng(opts.seed);
  const share = opts.mutatedShare ?? 1 / 3;
  const lingerMs = opts.lingerMs ?? 200;
  const deadline = Date.now() + (opts.maxSeconds ?? 600) * 1000;
  const started = Date.now();
  const report: CampaignReport = {
    protocol: opts.frames.protocol,
    seed: opts.seed,
    frames: 0,
    mutated: 0,
    mutations: {},
    bytes: 0,
    connections: 0,
    closedByServer: 0,
    batches: 0,
    seconds: 0,
    framesPerSecond: 0,
    rssBeforeMiB: server.rssAnonMiB(),
    rssMaxMiB: 0,
    rssAfterMiB: 0,
    stoppedEarly: false,
    failures: [],
  };
  report.rssMaxMiB = report.rssBeforeMiB;
  while (report.frames < opts.totalFrames) {
    if (Date.now() > deadline) {
      report.stoppedEarly = true;
      break;
    }
    const batch: Array<Promise<ConnectionOutcome>> = [];
    for (let c = 0; c < opts.concurrency && report.frames < opts.totalFrames; c++) {
      const connRng = rng.fork();
      const conn = opts.frames.connection(connRng);
      // Connections differ in how hostile they are (the mean share stays `share`): nearly clean
      // ones reach deep into the protocol's states, heavily mutated ones hit the decoders.
      const connShare = Math.min(1, share * connRng.pick(SHARE_SPREAD));
      const samples = [...conn.opening];
      for (let i = 0; i < opts.framesPerConnection; i++) samples.push(conn.next(connRng));
      const chunks = samples.map((s) => {
        if (!connRng.chance(connShare)) return s.bytes;
        const m = mutate(s, connRng);
        report.mutated++;
        report.mutations[m.mutation] = (report.mutations[m.mutation] ?? 0) + 1;
        return m.bytes;
      });
      report.frames += samples.length;
      for (const b of chunks) report.bytes += b.length;
      report.connections++;
      batch.push(runConnection(opts.frames.port(server.ports, connRng), chunks, connRng, lingerMs));
    }
    for (const o of await Promise.all(batch)) if (o.closedByServer) report.closedByServer++;
    report.batches++;
    if (!server.alive) {
      report.failures.push(`the server died in batch ${report.batches} (seed ${opts.seed}):\n${server.output.slice(-4000)}`);
      break;
    }
    try {
      await everyEndpointAnswers(server.ports, `${opts.frames.protocol}-${opts.seed}-${report.batches}`);
    } catch (err) {
      report.failures.push(`after batch ${report.batches} (seed ${opts.seed}): ${(err as Error).message}`);
      break;
    }
    report.rssMaxMiB = Math.max(report.rssMaxMiB, server.rssAnonMiB());
    report.seconds = (Date.now() - started) / 1000;
    report.framesPerSecond = Math.round(report.frames / Math.max(report.seconds, 0.001));
    opts.onBatch?.(report);
  }
  report.seconds = (Date.now() - started) / 1000;
  report.framesPerSecond = Math.round(report.frames / Math.max(report.seconds, 0.001));
  report.rssAfterMiB = server.alive ? server.rssAnonMiB() : Number.NaN;
  return report;
}
