import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The kernel-stage tests estimate eight planted kernels on the CPU; under turbo's parallel
    // package runs on a 2-core machine that can pass two minutes. A limit, not a timed test.
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
