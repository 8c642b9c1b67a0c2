import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'], testTimeout: 240_000, hookTimeout: 120_000, globalSetup: ['test/build-dist.ts'] },
});
