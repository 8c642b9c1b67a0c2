import { ApiError } from '../api-error.js';
import type { AdminHandler } from '../context.js';
import { queryParam } from '../query-params.js';
import { MAX_SAMPLES, SAMPLE_INTERVAL_MS } from '../stats-sampler.js';

/**
 * GET /api/v1/stats/overview[?since=MS]: the last five minutes of one-second samples (message
 * rates, connections by protocol, store size, disk free, fsync latency), oldest first; with
 * `since`, only those taken after it, so a poller asks for what it has not seen yet.
 */
export const statsOverview: AdminHandler = (deps, req) => {
  if (!deps.stats) throw new ApiError('UNAVAILABLE', 'the stats sampler is not running on this server');
  const since = queryParam.int(req.query, 'since', 0, 0, Number.MAX_SAFE_INTEGER);
  return { intervalMs: SAMPLE_INTERVAL_MS, maxSamples: MAX_SAMPLES, samples: deps.stats.since(since) };
};
