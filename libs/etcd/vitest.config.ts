import { defineConfig } from 'vitest/config';

// The specs start real etcd processes (test-etcd.ts); one file at a time keeps the 2-core machines calm.
export default defineConfig({ test: { include: ['src/**/*.spec.ts'], testTimeout: 60_000, fileParallelism: false } });
