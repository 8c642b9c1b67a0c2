import { defineConfig } from 'vitest/config';

// The e2e tests start the server's production build (dist/server/main.mjs): build it first, as apps/server's tests do.
export default defineConfig({
  test: { include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'], testTimeout: 60_000, globalSetup: ['../server/test/build-dist.ts'] },
});
