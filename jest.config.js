/** Every test lives under test/; tests that need Redis talk to the real server (never a mock). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  // Type checking is `npm run build`'s job; tests transpile only, which keeps the suite fast.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.spec.json' }] },
  testTimeout: 30000,
  maxWorkers: 1,
  // A hung connection must fail CI, not hang it until the time limit.
  forceExit: true,
};
