/**
 * `npm run test:production`: the orchestrator against the real Temporal server on PostgreSQL
 * (scripts/production-temporal.sh), one file at a time: each starts its own server.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  testMatch: ['<rootDir>/test/production/**/*.test.ts'],
  maxWorkers: 1,
  testTimeout: 600_000,
};
