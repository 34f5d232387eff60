import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'domain/**/*.test.ts', 'events/**/*.test.ts', 'functions/**/*.test.ts', 'local/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/setup-env.ts'],
    // Hang detectors, not speed checks (the benches measure speed): the integration tests wait on one
    // DynamoDB Local shared by three files, and a CI machine may run at a third of this one's speed.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Integration tests mostly wait on DynamoDB Local: three files at a time halve the run on 2 cores.
    maxWorkers: 3,
  },
});
