import type { Config } from 'jest';

// Two projects: fast unit tests (no terraform, no backend) and tests that run
// a real terraform binary against a live backend. Graders under graders/ are
// Jest suites too, but they are run by `lockgrader grade`, not by `npm test`
// directly (test/ holds the tests that grade fixtures through them).
const transform: Config['transform'] = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2023' } }] };
const common = {
  transform,
  extensionsToTreatAsEsm: ['.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  testEnvironment: 'node',
};

const config: Config = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'terraform',
      testMatch: ['<rootDir>/test/terraform/**/*.test.ts', '<rootDir>/src/**/*.int.test.ts'],
      slowTestThreshold: 60,
    },
  ],
};

export default config;
