// The localstack backend's choices that need no engine: which network mode an
// engine gets, and the settings LocalStack is started with in each.
import { describe, expect, test } from '@jest/globals';
import { chooseNetwork, localstackEnvironment, parseLocalstackNetwork } from './localstack-container.ts';

describe('network mode', () => {
  const bridgeEngine = { networks: ['bridge', 'host', 'none'], local: true };
  const noBridgeEngine = { networks: ['host', 'none'], local: true };
  const remoteNoBridge = { networks: ['host', 'none'], local: false };

  test.each([
    ['auto', bridgeEngine, { network: 'bridge', why: 'the engine has a bridge network' }],
    ['auto', noBridgeEngine, { network: 'host', why: 'the engine has no bridge network' }],
    ['host', bridgeEngine, { network: 'host', why: 'asked for' }],
    ['bridge', bridgeEngine, { network: 'bridge', why: 'asked for' }],
  ] as const)('%s on %j', (requested, engine, expected) => {
    expect(chooseNetwork(requested, engine)).toEqual(expected);
  });

  test('what cannot work is said, with what to do', () => {
    expect(chooseNetwork('bridge', noBridgeEngine)).toEqual({ unavailable: expect.stringMatching(/no bridge network.*--localstack-network host/) });
    expect(chooseNetwork('host', remoteNoBridge)).toEqual({ unavailable: expect.stringMatching(/not on this machine/) });
    expect(chooseNetwork('auto', remoteNoBridge)).toEqual({ unavailable: expect.stringMatching(/no bridge network and the engine is not on this machine/) });
  });

  test('parsing: empty means auto, anything else unknown is a usage error', () => {
    expect(parseLocalstackNetwork(undefined)).toBe('auto');
    expect(parseLocalstackNetwork('')).toBe('auto');
    expect(parseLocalstackNetwork('host')).toBe('host');
    expect(() => parseLocalstackNetwork('nat')).toThrow(/unknown LocalStack network "nat"; use one of auto, host, bridge/);
  });
});

describe("LocalStack's settings", () => {
  test('host network: S3 only, on 127.0.0.1 and the chosen port, hypercorn, no DNS server, nothing downloaded or reported', () => {
    expect(localstackEnvironment('host', 41234, {})).toEqual({
      SERVICES: 's3',
      EAGER_SERVICE_LOADING: '1',
      DNS_ADDRESS: '0',
      SKIP_SSL_CERT_DOWNLOAD: '1',
      DISABLE_EVENTS: '1',
      GATEWAY_SERVER: 'hypercorn',
      GATEWAY_LISTEN: '127.0.0.1:41234',
    });
  });

  test('bridge network: LocalStack keeps its own listen address (the port is mapped); a token is passed through', () => {
    const environment = localstackEnvironment('bridge', undefined, { LOCALSTACK_AUTH_TOKEN: 'ls-token' });
    expect(environment.GATEWAY_LISTEN).toBeUndefined();
    expect(environment).toMatchObject({ SERVICES: 's3', LOCALSTACK_AUTH_TOKEN: 'ls-token' });
  });
});
