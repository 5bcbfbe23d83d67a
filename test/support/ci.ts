// Whether the tests run in CI (.ci/run sets LOCKGRADER_CI=1; hosted CI sets CI=true).
// In CI a test whose prerequisite is missing fails instead of being skipped.
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI === 'true' || env.LOCKGRADER_CI === '1';
}
