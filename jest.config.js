/** Every test lives under test/; tests that need Redis talk to the real server (never a mock). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  testTimeout: 30000,
  maxWorkers: 1,
};
