// Which LocalStack image runs, and which ones need LOCALSTACK_AUTH_TOKEN.
import { describe, expect, test } from '@jest/globals';
import { authTokenProblem, LOCAL_BUILD_IMAGE, localstackImage, pinnedLocalstackImage } from './localstack-image.ts';

describe('LocalStack image', () => {
  test('the pinned default is the FROM line of containers/localstack/Dockerfile; LOCKGRADER_LOCALSTACK_IMAGE overrides it', async () => {
    expect(await pinnedLocalstackImage()).toBe('localstack/localstack:4.14.0');
    expect(await localstackImage({})).toBe('localstack/localstack:4.14.0');
    expect(await localstackImage({ LOCKGRADER_LOCALSTACK_IMAGE: LOCAL_BUILD_IMAGE })).toBe(LOCAL_BUILD_IMAGE);
  });

  test.each([
    ['localstack/localstack:4.14.0', false],
    ['localstack/localstack:4.13', false],
    ['docker.io/localstack/localstack:3.8.1', false],
    [LOCAL_BUILD_IMAGE, false],
    ['localstack/localstack:4.14.1', true],
    ['localstack/localstack:2026.3.0', true],
    ['localstack/localstack:latest', true],
    ['localstack/localstack', true],
    ['localstack/localstack:stable', true],
    ['localstack/localstack-pro:4.0.0', true],
    ['registry.example/localstack/localstack:4.15.0', false],
  ])('%s needs a token: %s', (image, needs) => {
    expect(authTokenProblem(image, {}) !== undefined).toBe(needs);
    expect(authTokenProblem(image, { LOCALSTACK_AUTH_TOKEN: 'ls-token' })).toBeUndefined();
  });

  test('the message says what to do', () => {
    expect(authTokenProblem('localstack/localstack:latest', {})).toBe(
      'localstack/localstack:latest needs LOCALSTACK_AUTH_TOKEN (LocalStack images after 4.14.0 do) and none is set: set it, ' +
        `or use localstack/localstack:4.14.0 (the pinned default), or build ${LOCAL_BUILD_IMAGE} without a registry (scripts/localstack-image.sh)`,
    );
  });
});
