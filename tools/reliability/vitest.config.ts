import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // The leak check calls gc() between measurements.
    pool: 'forks',
    poolOptions: { forks: { execArgv: ['--expose-gc'] } },
    fileParallelism: false,
  },
});
