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
  // One test file at a time: the terraform tests measure what a grading leaves
  // behind on the machine (processes, ports, temp folders), and on 2 cores
  // parallel gradings only slow each other down.
  maxWorkers: 1,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/test/unit/**/*.test.ts'], testPathIgnorePatterns: ['\\.int\\.test\\.ts$'] },
    {
      ...common,
      displayName: 'terraform',
      testMatch: ['<rootDir>/test/terraform/**/*.test.ts', '<rootDir>/src/**/*.int.test.ts'],
      slowTestThreshold: 60,
    },
  ],
};

export default config;
