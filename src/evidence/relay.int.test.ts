// The relay in front of the embedded backend (dynalite + s3rver), with real
// clients: terraform, the AWS SDK for JS and whatever AWS CLIs this machine
// has. What the log records is what the lab's checks will judge, so it is
// asserted request by request here. Neither emulator checks SigV4 (s3rver
// only looks the access key up), so the functional tests put a verifying hop
// (sigv4.ts) between the relay and the backend: every relayed request must
// still carry a valid signature.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { startEmbeddedBackend } from '../backend/embedded.ts';
import { createClients, createLabStore, deleteLabStore, LabStoreReader, type LabStore } from '../backend/lab-store.ts';
import type { StartedBackend } from '../backend/types.ts';
import { applyArgs, planArgs } from '../terraform/args.ts';
import { locateTerraform, type TerraformBinary } from '../terraform/locate.ts';
import { findOnPath, isExecutable } from '../util/find-on-path.ts';
import { createWorkspace, type Workspace } from '../workspace/workspace.ts';
import { BackendLog, type BackendRequest } from './backend-log.ts';
import { lockAttempts, lockEpisodes, stateWrites } from './lock-history.ts';
import { LockWriteGate } from './relay-gate.ts';
import { startRelay, type Relay } from './relay.ts';
import { verifySigV4, type SigV4Verdict } from './sigv4.ts';

let terraform: TerraformBinary;
let backend: StartedBackend;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  terraform = await locateTerraform();
  process.stdout.write(`terraform under test: ${terraform.flavour} ${terraform.version} (${terraform.path})\n`);
  backend = await startEmbeddedBackend();
}, 60_000);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await backend?.stop();
});

/** The store as a client of `relay` sees it: same bucket, table and key, the relay's endpoints. */
function viaRelay(store: LabStore, relay: Relay): LabStore {
  return { ...store, backend: { ...store.backend, endpoints: { s3: relay.endpoints.s3, dynamodb: relay.endpoints.dynamodb } } };
}

async function newStore(): Promise<LabStore> {
  const store = await createLabStore(backend);
  cleanups.push(() => deleteLabStore(store));
  return store;
}

async function newRelay(log: BackendLog, run: string, upstream: { s3: string; dynamodb: string } = backend.endpoints): Promise<Relay> {
  const relay = await startRelay({ log, run, upstream });
  cleanups.push(() => relay.close());
  return relay;
}

interface VerifyingHop {
  endpoints: { s3: string; dynamodb: string };
  verdicts: Array<{ url: string; verdict: SigV4Verdict }>;
}

// A hop between the relay and the backend that checks every request's SigV4
// signature (with the backend's secret) before passing it on, and refuses it
// (403) otherwise. Needed because neither emulator checks SigV4 itself:
// s3rver only looks the access key up, dynalite ignores the header.
async function newVerifyingHop(): Promise<VerifyingHop> {
  const verdicts: VerifyingHop['verdicts'] = [];
  const secretFor = (id: string) => (id === backend.credentials.accessKeyId ? backend.credentials.secretAccessKey : undefined);
  const agent = new http.Agent({ keepAlive: true });
  const serve = async (target: string) => {
    const upstream = new URL(target);
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const verdict = verifySigV4({ method: req.method ?? '', url: req.url ?? '/', rawHeaders: req.rawHeaders, body }, secretFor);
        verdicts.push({ url: req.url ?? '', verdict });
        if (!verdict.ok) {
          res.writeHead(403, { 'content-type': 'text/plain' }).end(`SignatureDoesNotMatch: ${verdict.reason}`);
          return;
        }
        const forward = http.request(
          { hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.rawHeaders, agent },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.rawHeaders.filter((_v, i, a) => !/^(connection|keep-alive)$/i.test(a[i - (i % 2)] ?? '')));
            answer.pipe(res);
          },
        );
        forward.on('error', () => res.destroy());
        forward.end(body);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          agent.destroy();
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  return { endpoints: { s3: await serve(backend.endpoints.s3), dynamodb: await serve(backend.endpoints.dynamodb) }, verdicts };
}

/** Every request reached the backend with a signature that still verified after the relay. */
function expectAllSigned(hop: VerifyingHop, log: BackendLog): void {
  const refused = hop.verdicts.filter(({ verdict }) => !verdict.ok);
  expect(refused).toEqual([]);
  expect(hop.verdicts).toHaveLength(log.requests.length);
}

async function newWorkspace(store: LabStore): Promise<Workspace> {
  const workspace = await createWorkspace({ store, terraform });
  cleanups.push(() => workspace.dispose());
  return workspace;
}

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

describe('terraform through a relay', () => {
  test('init + apply: the lock taken, the state and digest written under it, the lock released; all terraform, all r1', async () => {
    const store = await newStore();
    const log = new BackendLog();
    const hop = await newVerifyingHop();
    const relay = await newRelay(log, 'r1', hop.endpoints);
    const workspace = await newWorkspace(viaRelay(store, relay));
    const apply = await workspace.run(applyArgs({ vars: { release: 'relayed' } }));
    expect(apply.exitCode).toBe(0);

    const requests = log.requests;
    expect(requests.length).toBeGreaterThan(5);
    expect(new Set(requests.map((r) => r.run))).toEqual(new Set(['r1']));
    expect(new Set(requests.map((r) => r.client))).toEqual(new Set([terraform.flavour]));
    expect(requests.filter((r) => r.status >= 500)).toEqual([]); // no RelayError, no backend fault
    expect(requests.map((r) => r.seq)).toEqual(requests.map((_r, i) => i));

    // The lock: a conditional PutItem that succeeded.
    const acquired = requests.find((r) => r.operation === 'PutItem' && r.lockId === store.lockId);
    expect(acquired).toMatchObject({ service: 'dynamodb', table: store.table, conditional: true, status: 200, condition: 'attribute_not_exists(LockID)' });
    const info = JSON.parse(acquired?.item?.Info ?? '{}') as { ID?: string; Operation?: string; Path?: string };
    expect(info).toMatchObject({ Operation: 'OperationTypeApply', Path: store.lockId });

    // Every request's SigV4 signature still verified behind the relay.
    expectAllSigned(hop, log);

    // The state: PutObject of a JSON document with a serial.
    const statePuts = requests.filter((r) => r.operation === 'PutObject' && r.bucket === store.bucket && r.key === store.key);
    expect(statePuts.length).toBeGreaterThan(0);
    const lastState = statePuts.at(-1) as BackendRequest;
    expect(lastState.status).toBe(200);
    const state = JSON.parse(lastState.body ?? '') as { serial?: unknown; lineage?: unknown };
    expect(typeof state.serial).toBe('number');
    const reader = new LabStoreReader(store);
    try {
      expect((await reader.readState())?.body).toBe(lastState.body);
    } finally {
      reader.close();
    }

    // The digest: an unconditional PutItem of md5(state) on "<lock>-md5".
    const digest = requests.filter((r) => r.operation === 'PutItem' && r.lockId === store.digestId).at(-1);
    expect(digest).toMatchObject({ status: 200, conditional: false, item: { LockID: store.digestId, Digest: md5(lastState.body ?? '') } });

    // The release: a DeleteItem on the lock. OpenTofu >= 1.10 makes it
    // conditional on the Info it wrote; Terraform (1.11 included) does not.
    const released = requests.find((r) => r.operation === 'DeleteItem' && r.lockId === store.lockId);
    expect(released).toMatchObject({ status: 200, conditional: terraform.flavour === 'tofu' });

    const episodes = lockEpisodes(requests, store.lockId);
    expect(episodes).toEqual([
      {
        run: 'r1',
        client: terraform.flavour,
        acquiredAt: acquired?.endAt,
        acquireSeq: acquired?.seq,
        lockInfoId: info.ID,
        operation: 'OperationTypeApply',
        releasedAt: released?.at,
        releasedBy: { run: 'r1', client: terraform.flavour, conditional: terraform.flavour === 'tofu', at: released?.at },
      },
    ]);
    const writes = stateWrites(requests, { bucket: store.bucket, key: store.key, digestLockId: store.digestId });
    expect(writes.length).toBeGreaterThanOrEqual(2);
    expect(writes.map((w) => [w.run, w.succeeded, w.lockedByWriter])).toEqual(writes.map(() => ['r1', true, true]));
  }, 120_000);

  test('contention through two relays: b is refused while a holds the lock, about 1 s then 2 s apart', async () => {
    const store = await newStore();
    const log = new BackendLog();
    const hop = await newVerifyingHop();
    const relayA = await newRelay(log, 'a', hop.endpoints);
    const relayB = await newRelay(log, 'b', hop.endpoints);
    const workspaceB = await newWorkspace(viaRelay(store, relayB));

    // 'a' holds the lock the way terraform would, with the AWS SDK for JS.
    const holder = createClients(viaRelay(store, relayA).backend);
    const lockInfoId = randomUUID();
    const Info = JSON.stringify({ ID: lockInfoId, Operation: 'OperationTypeApply', Info: '', Who: 'holder@relay-a', Version: '1.11.4', Created: new Date().toISOString(), Path: store.lockId });
    try {
      await holder.ddb.send(
        new PutItemCommand({ TableName: store.table, Item: { LockID: { S: store.lockId }, Info: { S: Info } }, ConditionExpression: 'attribute_not_exists(LockID)' }),
      );
      // terraform retries at 0 s, 1 s, 3 s, 7 s... (statemgr.LockWithContext:
      // the delay starts at 1 s and doubles). With -lock-timeout=3s the third
      // try is due exactly when the timeout ends and is normally not made, so
      // 4s shows both gaps: three refusals, about 1 s then 2 s apart.
      const plan = await workspaceB.run(planArgs({ lockTimeout: '4s' }));
      expect(plan.exitCode).toBe(1);
      expect(plan.all).toContain('Error acquiring the state lock');
      expect(plan.all).toContain(lockInfoId);
      await holder.ddb.send(new DeleteItemCommand({ TableName: store.table, Key: { LockID: { S: store.lockId } } }));
    } finally {
      holder.ddb.destroy();
      holder.s3.destroy();
    }

    const attempts = lockAttempts(log.requests, store.lockId, 'b');
    const gaps = attempts.slice(1).map((attempt, i) => attempt.at - (attempts[i]?.at ?? 0));
    process.stdout.write(`contention: b's attempts ${attempts.map((a) => a.outcome).join(', ')}; gaps ${gaps.join(', ')} ms\n`);
    expect(attempts).toHaveLength(3);
    expect(attempts.map((a) => [a.outcome, a.errorType, a.client])).toEqual(attempts.map(() => ['refused', 'ConditionalCheckFailedException', terraform.flavour]));
    // terraform's retry backoff (statemgr.LockWithContext): 1 s, then 2 s.
    expect(gaps[0]).toBeGreaterThanOrEqual(900);
    expect(gaps[0]).toBeLessThan(1700);
    expect(gaps[1]).toBeGreaterThanOrEqual(1900);
    expect(gaps[1]).toBeLessThan(2800);
    // After each refusal b read the lock item; its answer names the holder.
    const reads = log.forRun('b').filter((r) => r.operation === 'GetItem' && r.lockId === store.lockId);
    expect(reads.length).toBeGreaterThan(0);
    expect(reads[0]?.responseBody).toContain(lockInfoId);

    expect(lockEpisodes(log.requests, store.lockId)).toEqual([
      expect.objectContaining({ run: 'a', client: 'sdk-js', lockInfoId, releasedBy: expect.objectContaining({ run: 'a', client: 'sdk-js', conditional: false }) }),
    ]);
    expect(new Set(log.forRun('a').map((r) => r.client))).toEqual(new Set(['sdk-js']));
    expectAllSigned(hop, log);
  }, 120_000);
});

describe('a gate on the lock writes of a run (relay-gate.ts)', () => {
  test('closed, the next lock attempt of terraform waits at the relay unforwarded; opened, it is forwarded and takes the freed lock', async () => {
    const store = await newStore();
    const log = new BackendLog();
    const gate = new LockWriteGate();
    const relayA = await newRelay(log, 'a');
    const relayB = await startRelay({ log, run: 'b', upstream: backend.endpoints, hold: (head) => gate.hold(head) });
    cleanups.push(() => relayB.close());
    const workspaceB = await newWorkspace(viaRelay(store, relayB));
    const holder = createClients(viaRelay(store, relayA).backend);
    const reader = new LabStoreReader(store);
    const lockInfoId = randomUUID();
    const Info = JSON.stringify({ ID: lockInfoId, Operation: 'OperationTypeApply', Info: '', Who: 'holder@relay-a', Version: '1.11.4', Created: new Date().toISOString(), Path: store.lockId });
    try {
      await holder.ddb.send(new PutItemCommand({ TableName: store.table, Item: { LockID: { S: store.lockId }, Info: { S: Info } }, ConditionExpression: 'attribute_not_exists(LockID)' }));
      const readAfterRefusal = log.waitFor((q) => q.run === 'b' && q.operation === 'GetItem' && q.lockId === store.lockId);
      const plan = workspaceB.run(planArgs({ lockTimeout: '60s' }));
      await readAfterRefusal;
      gate.close();
      // terraform tries again 1 s after its first refusal: that put is held.
      while (gate.heldCount === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(log.openExchanges('b')).toBe(0);
      await holder.ddb.send(new DeleteItemCommand({ TableName: store.table, Key: { LockID: { S: store.lockId } } }));
      // The lock is free, and the held put has not reached the backend.
      expect(await reader.readLock()).toBeUndefined();
      const heldFrom = Date.now();
      gate.open();
      const result = await plan;
      expect(result.exitCode).toBe(0);
      const attempts = lockAttempts(log.requests, store.lockId, 'b');
      expect(attempts.map((a) => a.outcome)).toEqual(['refused', 'acquired']);
      const forwarded = log.forRun('b').find((q) => q.operation === 'PutItem' && q.lockId === store.lockId && q.status === 200);
      // Forwarded only once the gate opened: it arrived before, and waited until then.
      expect(forwarded?.at ?? Infinity).toBeLessThan(heldFrom);
      expect((forwarded?.at ?? 0) + (forwarded?.heldMs ?? 0)).toBeGreaterThanOrEqual(heldFrom);
      // Reads were never held.
      expect(log.forRun('b').filter((q) => q.operation === 'GetItem').every((q) => q.heldMs === undefined)).toBe(true);
    } finally {
      gate.open();
      holder.ddb.destroy();
      holder.s3.destroy();
    }
  }, 120_000);
});

// The AWS CLIs on this machine: the `aws` on PATH (through a pyenv shim to the
// real program: the shim needs pyenv's environment, which the test does not
// give) and the usual v2 install places. Deduplicated by version line, so a
// machine with v1 on PATH and Debian's v2 tests both.
async function realAws(place: string): Promise<string> {
  const head = await readFile(place, 'utf8').then((text) => text.slice(0, 400)).catch(() => '');
  if (head.startsWith('#!') && head.includes('pyenv')) {
    const which = await execa('pyenv', ['which', 'aws'], { reject: false });
    if (which.exitCode === 0 && which.stdout.trim()) return which.stdout.trim();
  }
  return realpath(place);
}

async function awsClis(): Promise<Array<{ path: string; version: string }>> {
  const places = [await findOnPath('aws', process.env.PATH ?? ''), '/usr/local/bin/aws', '/usr/local/aws-cli/v2/current/bin/aws', '/usr/bin/aws'];
  const found: Array<{ path: string; version: string }> = [];
  for (const place of places) {
    if (!place || !(await isExecutable(place))) continue;
    const real = await realAws(place);
    if (found.some((cli) => cli.path === real)) continue;
    const version = await execa(real, ['--version'], { reject: false, timeout: 30_000, stdin: 'ignore' });
    const line = `${version.stdout}\n${version.stderr}`.trim().split('\n')[0] ?? '';
    if (line.startsWith('aws-cli/') && !found.some((cli) => cli.version === line)) found.push({ path: real, version: line });
  }
  return found;
}

describe('the AWS CLI through a relay', () => {
  test('put-item, delete-item and s3 cp are logged as aws-cli, with the lock episode and an unlocked state write', async () => {
    const clis = await awsClis();
    if (clis.length === 0) {
      process.stdout.write('SKIPPED: no AWS CLI found (aws on PATH, /usr/local/bin/aws, /usr/bin/aws)\n');
      return;
    }
    const store = await newStore();
    const home = await mkdtemp(path.join(tmpdir(), 'lockgrader-awscli-'));
    cleanups.push(() => rm(home, { recursive: true, force: true }));
    for (const [index, cli] of clis.entries()) {
      const log = new BackendLog();
      const run = `cli${index}`;
      const hop = await newVerifyingHop();
      const relay = await newRelay(log, run, hop.endpoints);
      const env = {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: home,
        AWS_ACCESS_KEY_ID: backend.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: backend.credentials.secretAccessKey,
        AWS_DEFAULT_REGION: backend.credentials.region,
        AWS_REGION: backend.credentials.region,
        AWS_PAGER: '',
      };
      const stateFile = path.join(home, `state-${index}.json`);
      const stateBody = JSON.stringify({ version: 4, serial: 40 + index, lineage: 'aws-cli' });
      await writeFile(stateFile, stateBody);
      // --endpoint-url rather than AWS_ENDPOINT_URL_*: aws-cli v2 before 2.13 ignores those.
      const aws = (endpoint: string, args: string[]) => execa(cli.path, ['--endpoint-url', endpoint, ...args], { env, extendEnv: false, reject: false, timeout: 60_000, stdin: 'ignore' });
      const key = JSON.stringify({ LockID: { S: store.lockId } });
      const steps = [
        await aws(relay.endpoints.dynamodb, ['dynamodb', 'put-item', '--table-name', store.table ?? '', '--item', JSON.stringify({ LockID: { S: store.lockId }, Info: { S: 'held by the learner' } }), '--condition-expression', 'attribute_not_exists(LockID)']),
        await aws(relay.endpoints.s3, ['s3', 'cp', stateFile, `s3://${store.bucket}/${store.key}`]),
        await aws(relay.endpoints.dynamodb, ['dynamodb', 'delete-item', '--table-name', store.table ?? '', '--key', key]),
      ];
      process.stdout.write(`${cli.version} (${cli.path}): exits ${steps.map((s) => s.exitCode).join(', ')}; ${log.requests.length} requests\n`);
      for (const step of steps) expect({ cli: cli.version, exit: step.exitCode, stderr: step.stderr }).toEqual({ cli: cli.version, exit: 0, stderr: '' });
      expectAllSigned(hop, log);

      expect(new Set(log.requests.map((r) => `${r.run} ${r.client} ${r.userAgent.split(' ')[0]?.split('/')[0]}`))).toEqual(new Set([`${run} aws-cli aws-cli`]));
      expect(log.requests.find((r) => r.operation === 'DeleteItem')).toMatchObject({ service: 'dynamodb', table: store.table, lockId: store.lockId, status: 200, conditional: false });
      expect(log.requests.find((r) => r.operation === 'PutObject')).toMatchObject({ service: 's3', bucket: store.bucket, key: store.key, status: 200, body: stateBody });
      expect(lockEpisodes(log.requests, store.lockId)).toEqual([
        expect.objectContaining({ run, client: 'aws-cli', releasedBy: expect.objectContaining({ run, client: 'aws-cli' }) }),
      ]);
      expect(lockEpisodes(log.requests, store.lockId)[0]?.lockInfoId).toBeUndefined(); // Info is not JSON
      // The upload happened while the learner's own item held the lock.
      expect(stateWrites(log.requests, { bucket: store.bucket, key: store.key, digestLockId: store.digestId })).toEqual([
        expect.objectContaining({ run, client: 'aws-cli', target: 'state', operation: 'PutObject', succeeded: true, lockedByWriter: true }),
      ]);
    }
  }, 180_000);
});

describe('relay overhead', () => {
  test('terraform apply direct vs through a relay (measured, not asserted)', async () => {
    const direct = await newWorkspace(await newStore());
    const log = new BackendLog();
    const relay = await newRelay(log, 'bench');
    const relayed = await newWorkspace(viaRelay(await newStore(), relay));
    const timeApply = async (workspace: Workspace, release: string) => {
      const result = await workspace.run(applyArgs({ vars: { release } }));
      if (result.exitCode !== 0) throw new Error(`apply exited ${result.exitCode}:\n${result.all.slice(-3000)}`);
      return result.durationMs;
    };
    // One warm-up each (first state write, page cache), then alternate so
    // that any drift of the machine hits both sides alike.
    await timeApply(direct, 'warm');
    await timeApply(relayed, 'warm');
    const rounds = 8;
    const times = { direct: [] as number[], relayed: [] as number[] };
    for (let i = 0; i < rounds; i += 1) {
      times.direct.push(await timeApply(direct, `r${i}`));
      times.relayed.push(await timeApply(relayed, `r${i}`));
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
    const perApply = log.requests.length / (rounds + 1);
    const exchange = log.requests.map((r) => r.endAt - r.at);
    process.stdout.write(
      `relay overhead: apply median direct ${median(times.direct)} ms, relayed ${median(times.relayed)} ms ` +
        `(direct ${times.direct.join('/')}, relayed ${times.relayed.join('/')}); ` +
        `${perApply.toFixed(1)} requests per apply, relayed exchange median ${median(exchange)} ms, max ${Math.max(...exchange)} ms\n`,
    );
  }, 240_000);
});
