import fs from 'node:fs/promises';
import type { AdminHandler } from '../context.js';

/** GET /api/v1/health: UP while the server answers (the store open). */
export const health: AdminHandler = () => ({ status: 'UP' });

/**
 * GET /api/v1/cluster: this broker (name, cluster, role, version, addresses) and its store's disk.
 * With replication, its brokerId, role (MASTER or SLAVE) and where replication stands.
 */
export const cluster: AdminHandler = async (deps) => {
  const { broker } = deps;
  const s = broker.storeStats();
  let disk: { totalBytes: number; freeBytes: number; usedRatio: number } | null = null;
  try {
    const st = await fs.statfs(deps.dataDir);
    const total = st.blocks * st.bsize;
    const free = st.bavail * st.bsize;
    disk = { totalBytes: total, freeBytes: free, usedRatio: total > 0 ? (total - free) / total : 0 };
  } catch {
    disk = null;
  }
  return {
    clusterName: broker.config.clusterName,
    brokers: [
      {
        brokerName: broker.config.brokerName,
        ...(deps.replication?.() ?? { brokerId: 0, role: 'MASTER' }),
        version: deps.version,
        startedAt: deps.startedAt,
        listeners: deps.listeners(),
        store: {
          minCommitLogOffset: s.minCommitLogOffset,
          maxCommitLogOffset: s.maxCommitLogOffset,
          flushedCommitLogOffset: s.flushedCommitLogOffset,
          segments: s.segments,
          disk,
        },
      },
    ],
  };
};
