// The relay's HTTP mechanics against a fake upstream (a plain node:http
// server that records what it received): header fidelity, bodies, Expect,
// chunked and aws-chunked uploads, HEAD, disconnects, upstream failures,
// close(). Real terraform, the AWS CLI and the emulators are in relay.int.test.ts.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { BackendLog, type BackendRequest } from './backend-log.ts';
import { startRelay, type Relay } from './relay.ts';

interface Received {
  method: string;
  url: string;
  rawHeaders: string[];
  body: Buffer;
  complete: boolean;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

// A fake backend: records every request, answers with `handler`.
class FakeUpstream {
  received: Received[] = [];
  handler: Handler = (_req, res) => res.end('ok');
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => undefined);
    req.on('close', () => {
      if (!req.complete) this.received.push({ method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders, body: Buffer.concat(chunks), complete: false });
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      this.received.push({ method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders, body, complete: true });
      this.handler(req, res, body);
    });
  });
  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Sends raw bytes on a fresh TCP connection and returns everything the relay answered until it closed or `until` matched. */
async function rawExchange(port: number, parts: Array<string | Buffer>, options: { until?: RegExp } = {}): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let answer = '';
  socket.on('data', (chunk: Buffer) => {
    answer += chunk.toString('latin1');
  });
  const closed = once(socket, 'close');
  for (const part of parts) {
    socket.write(part);
    await delay(5); // separate TCP segments, as a streaming client sends them
  }
  if (options.until) {
    const until = options.until;
    while (!until.test(answer) && !socket.destroyed) await delay(5);
    socket.destroy();
  }
  await closed;
  return answer;
}

async function waitUntil(condition: () => boolean, what: string): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > 5000) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}

const port = (url: string) => Number(new URL(url).port);
const TERRAFORM_UA = 'APN/1.0 HashiCorp/1.0 Terraform/1.11.4 (+https://www.terraform.io) aws-sdk-go-v2/1.36.3';

let upstream: FakeUpstream;
let log: BackendLog;
let relay: Relay;

beforeEach(async () => {
  upstream = new FakeUpstream();
  const url = await upstream.start();
  log = new BackendLog();
  // Two origins for one fake server (127.0.0.1 and localhost), so the relay
  // opens one port per service as it does for the embedded backend.
  relay = await startRelay({ log, run: 'r1', upstream: { s3: url, dynamodb: url.replace('127.0.0.1', 'localhost') } });
});

afterEach(async () => {
  await relay.close();
  await upstream.stop();
});

describe('forwarding', () => {
  test('request headers reach the upstream byte for byte, Host, case, order and duplicates included', async () => {
    const head = [
      'PUT /bucket/lab/terraform.tfstate HTTP/1.1',
      'Host: 127.0.0.1:12345',
      'X-Amz-Date: 20260101T000000Z',
      'authorization: AWS4-HMAC-SHA256 Credential=S3RVER/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc',
      'x-custom: one',
      'X-CUSTOM: two',
      `User-Agent: ${TERRAFORM_UA}`,
      'Content-Length: 13',
      'Connection: keep-alive',
    ];
    upstream.handler = (_req, res) => res.writeHead(200, { ETag: '"x"', 'X-Upstream': 'Yes' }).end();
    const answer = await rawExchange(port(relay.endpoints.s3), [`${head.join('\r\n')}\r\n\r\n{"serial": 3}`], { until: /\r\n\r\n/ });
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(answer).toContain('ETag: "x"');
    expect(answer).toContain('X-Upstream: Yes');
    expect(upstream.received[0]?.rawHeaders).toEqual(head.slice(1).flatMap((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]));
    expect(upstream.received[0]?.body.toString()).toBe('{"serial": 3}');
    await waitUntil(() => log.requests.length === 1, 'the entry');
    expect(log.requests[0]).toMatchObject({
      seq: 0,
      run: 'r1',
      service: 's3',
      operation: 'PutObject',
      bucket: 'bucket',
      key: 'lab/terraform.tfstate',
      status: 200,
      client: 'terraform',
      userAgent: TERRAFORM_UA,
      body: '{"serial": 3}',
      conditional: false,
    });
  });

  test('one relay port per service; a DynamoDB exchange is parsed from request and response', async () => {
    expect(relay.ports).toHaveLength(2);
    expect(relay.endpoints.s3).not.toBe(relay.endpoints.dynamodb);
    upstream.handler = (_req, res) =>
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' }).end('{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}');
    const body = JSON.stringify({ TableName: 't', Item: { LockID: { S: 'b/k' }, Info: { S: '{"ID":"1"}' } }, ConditionExpression: 'attribute_not_exists(LockID)' });
    const response = await fetch(relay.endpoints.dynamodb, {
      method: 'POST',
      headers: { 'x-amz-target': 'DynamoDB_20120810.PutItem', 'content-type': 'application/x-amz-json-1.0', 'user-agent': 'aws-cli/2.27.0 ua/2.1' },
      body,
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('ConditionalCheckFailedException');
    await waitUntil(() => log.requests.length === 1, 'the entry');
    const entry = log.requests[0] as BackendRequest;
    expect(entry).toMatchObject({
      service: 'dynamodb',
      operation: 'PutItem',
      table: 't',
      lockId: 'b/k',
      conditional: true,
      condition: 'attribute_not_exists(LockID)',
      item: { LockID: 'b/k', Info: '{"ID":"1"}' },
      status: 400,
      errorType: 'ConditionalCheckFailedException',
      client: 'aws-cli',
    });
    expect(entry.endAt).toBeGreaterThanOrEqual(entry.at);
    expect(entry.responseBody).toBeUndefined(); // kept for GetItem only
    expect(upstream.received[0]?.body.toString()).toBe(body);
  });

  test('a GetItem answer is kept, so a reader of the lock is visible', async () => {
    const answer = '{"Item":{"LockID":{"S":"b/k"},"Info":{"S":"{}"}}}';
    upstream.handler = (_req, res) => res.end(answer);
    await fetch(relay.endpoints.dynamodb, { method: 'POST', headers: { 'x-amz-target': 'DynamoDB_20120810.GetItem' }, body: '{"TableName":"t","Key":{"LockID":{"S":"b/k"}}}' });
    await waitUntil(() => log.requests.length === 1, 'the entry');
    expect(log.requests[0]).toMatchObject({ operation: 'GetItem', lockId: 'b/k', responseBody: answer, status: 200 });
  });

  test('HEAD: no body, and a 404 is NotFound', async () => {
    upstream.handler = (_req, res) => res.writeHead(404, { 'content-length': '120', 'x-amz-request-id': 'r' }).end();
    const response = await fetch(`${relay.endpoints.s3}/b/missing`, { method: 'HEAD' });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-length')).toBe('120');
    await waitUntil(() => log.requests.length === 1, 'the entry');
    expect(log.requests[0]).toMatchObject({ operation: 'HeadObject', bucket: 'b', key: 'missing', status: 404, errorType: 'NotFound' });
  });

  test('an S3 XML error gives its <Code>; If-None-Match makes it conditional', async () => {
    upstream.handler = (_req, res) =>
      res.writeHead(412, { 'content-type': 'application/xml' }).end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>');
    const response = await fetch(`${relay.endpoints.s3}/b/lab/terraform.tfstate.tflock`, { method: 'PUT', headers: { 'if-none-match': '*' }, body: '{"ID":"x"}' });
    expect(response.status).toBe(412);
    await waitUntil(() => log.requests.length === 1, 'the entry');
    expect(log.requests[0]).toMatchObject({ operation: 'PutObject', key: 'lab/terraform.tfstate.tflock', conditional: true, status: 412, errorType: 'PreconditionFailed', body: '{"ID":"x"}' });
  });

  test('a DeleteObjects body is read for the keys it deletes (a .tflock among them), not kept as a body', async () => {
    upstream.handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/xml' }).end('<DeleteResult/>');
    const xml =
      '<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>lab/terraform.tfstate</Key></Object>' +
      '<Object><Key>lab/terraform.tfstate.tflock</Key><VersionId>v</VersionId></Object><Quiet>true</Quiet></Delete>';
    const response = await fetch(`${relay.endpoints.s3}/b?delete`, { method: 'POST', body: xml });
    expect(response.status).toBe(200);
    await waitUntil(() => log.requests.length === 1, 'the entry');
    expect(log.requests[0]).toMatchObject({ operation: 'DeleteObjects', bucket: 'b', keys: ['lab/terraform.tfstate', 'lab/terraform.tfstate.tflock'], status: 200 });
    expect(log.requests[0]?.body).toBeUndefined();
    expect(upstream.received[0]?.body.toString()).toBe(xml);
  });

  test('a small response goes to the client in one write, head and body together, even when the upstream split them', async () => {
    // Go's net/http can lose a body that arrives after the head (see relay.ts).
    upstream.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'content-length': '2' });
      res.flushHeaders();
      setTimeout(() => res.end('{}'), 20);
    };
    const socket = net.connect(port(relay.endpoints.dynamodb), '127.0.0.1');
    await once(socket, 'connect');
    const body = '{"TableName":"t","Key":{"LockID":{"S":"b/k"}}}';
    socket.write(`POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: DynamoDB_20120810.DeleteItem\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    const [first] = (await once(socket, 'data')) as [Buffer];
    socket.destroy();
    expect(first.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\n\{\}$/);
  });

  test('a streamed (chunked) response is relayed whole', async () => {
    upstream.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"version":4,');
      setTimeout(() => res.end('"serial":9}'), 20);
    };
    const response = await fetch(`${relay.endpoints.s3}/b/lab/terraform.tfstate`);
    expect(await response.text()).toBe('{"version":4,"serial":9}');
    await waitUntil(() => log.requests.length === 1, 'the entry');
    expect(log.requests[0]).toMatchObject({ operation: 'GetObject', status: 200 });
    expect(log.requests[0]?.body).toBeUndefined();
  });

  test('keep-alive: requests on one connection share its id, a new connection gets a new one', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const get = (path: string) =>
        new Promise<void>((resolve, reject) => {
          http.get(`${relay.endpoints.s3}${path}`, { agent }, (res) => res.resume().on('end', resolve)).on('error', reject);
        });
      await get('/b/one');
      await get('/b/two');
      await fetch(`${relay.endpoints.s3}/b/three`, { headers: { connection: 'close' } }).then((r) => r.text());
      await waitUntil(() => log.requests.length === 3, 'three entries');
      const [one, two, three] = log.requests;
      expect(one?.connection).toBe(two?.connection);
      expect(three?.connection).not.toBe(one?.connection);
      expect(upstream.received.map((r) => r.url)).toEqual(['/b/one', '/b/two', '/b/three']);
    } finally {
      agent.destroy();
    }
  });
});

describe('onRequest', () => {
  test('is called as each request head arrives, before the upstream has it; what it returns is logged as terraformAlive', async () => {
    const url = `http://127.0.0.1:${(upstream.server.address() as AddressInfo).port}`;
    const upstreamHadIt: number[] = [];
    const alive = [{ args: ['force-unlock', '-force', 'id-1'], tf_cli_args: {} }];
    const tapped = await startRelay({
      log,
      run: 'r2',
      upstream: { s3: url, dynamodb: url },
      onRequest: () => {
        upstreamHadIt.push(upstream.received.length);
        return upstreamHadIt.length === 1 ? alive : undefined;
      },
    });
    try {
      await fetch(`${tapped.endpoints.s3}/b/one`).then((r) => r.text());
      await fetch(`${tapped.endpoints.s3}/b/two`).then((r) => r.text());
      await waitUntil(() => log.requests.length === 2, 'two entries');
      // Ticked once per request, each time before the (fake) backend had received it.
      expect(upstreamHadIt).toEqual([0, 1]);
      expect(log.requests.map((r) => r.terraformAlive)).toEqual([alive, undefined]);
    } finally {
      await tapped.close();
    }
  });
});

describe('request bodies', () => {
  test('Expect: 100-continue: the client gets 100 before sending its body, the upstream gets it all', async () => {
    const body = '{"serial": 1}';
    const socket = net.connect(port(relay.endpoints.s3), '127.0.0.1');
    await once(socket, 'connect');
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
    });
    const closed = once(socket, 'close');
    socket.write(`PUT /b/k HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nUser-Agent: aws-cli/1.45.11\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
    await waitUntil(() => answer.includes('100 Continue'), 'the interim 100 Continue');
    expect(upstream.received).toHaveLength(0); // nothing sent yet but the head
    socket.write(body);
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
    expect(upstream.received[0]?.body.toString()).toBe(body);
    expect(upstream.received[0]?.rawHeaders).toContain('Expect');
    await waitUntil(() => log.requests.length === 1, 'the entry');
    expect(log.requests[0]).toMatchObject({ operation: 'PutObject', body, status: 200, client: 'aws-cli' });
  });

  test('a chunked (Transfer-Encoding) upload is relayed and logged', async () => {
    const head = 'PUT /b/k HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n';
    await rawExchange(port(relay.endpoints.s3), [head, '5\r\nhello\r\n', '6\r\n world\r\n', '0\r\n\r\n'], { until: /\r\n\r\n/ });
    expect(upstream.received[0]?.body.toString()).toBe('hello world');
    await waitUntil(() => log.requests.length === 1, 'the entry');
    expect(log.requests[0]).toMatchObject({ operation: 'PutObject', body: 'hello world' });
  });

  test('an aws-chunked (SigV4 streaming) upload reaches the upstream framed; the log has the payload', async () => {
    const framed = 'd;chunk-signature=aaaa\r\n{"serial": 2}\r\n0;chunk-signature=bbbb\r\n\r\n';
    const response = await fetch(`${relay.endpoints.s3}/b/k`, {
      method: 'PUT',
      headers: { 'content-encoding': 'aws-chunked', 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'x-amz-decoded-content-length': '13' },
      body: framed,
    });
    expect(response.status).toBe(200);
    expect(upstream.received[0]?.body.toString()).toBe(framed);
    await waitUntil(() => log.requests.length === 1, 'the entry');
    expect(log.requests[0]?.body).toBe('{"serial": 2}');
  });

  test('a PutObject body over 1 MiB is streamed through whole but not kept', async () => {
    const big = Buffer.alloc(1024 * 1024 + 1, 'a');
    const response = await fetch(`${relay.endpoints.s3}/b/big`, { method: 'PUT', body: big });
    expect(response.status).toBe(200);
    expect(upstream.received[0]?.body.length).toBe(big.length);
    await waitUntil(() => log.requests.length === 1, 'the entry');
    expect(log.requests[0]?.body).toBeUndefined();
    expect(log.requests[0]?.operation).toBe('PutObject');
  });
});

describe('failures', () => {
  test('the upstream is down: the client gets 502 and the log a RelayError', async () => {
    await upstream.stop();
    const response = await fetch(`${relay.endpoints.dynamodb}`, { method: 'POST', headers: { 'x-amz-target': 'DynamoDB_20120810.DeleteItem' }, body: '{"TableName":"t","Key":{"LockID":{"S":"b/k"}}}' });
    expect(response.status).toBe(502);
    expect(await response.text()).toContain('lockgrader relay');
    await waitUntil(() => log.requests.length === 1, 'the entry');
    expect(log.requests[0]).toMatchObject({ operation: 'DeleteItem', lockId: 'b/k', status: 502, errorType: 'RelayError' });
    expect(log.requests[0]?.relayError).toMatch(/ECONNREFUSED/);
  });

  test('the upstream dies mid-response: the client connection is cut, the log says RelayError', async () => {
    upstream.handler = (_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      setTimeout(() => res.socket?.destroy(), 20);
    };
    await expect(fetch(`${relay.endpoints.s3}/b/k`).then((r) => r.text())).rejects.toThrow();
    await waitUntil(() => log.requests.length === 1, 'the entry');
    expect(log.requests[0]).toMatchObject({ operation: 'GetObject', status: 502, errorType: 'RelayError' });
  });

  test('a client that disconnects mid-body: the upstream request is aborted, the log says so', async () => {
    const head = 'PUT /b/k HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n';
    const socket = net.connect(port(relay.endpoints.s3), '127.0.0.1');
    await once(socket, 'connect');
    socket.write(`${head}only part`);
    await delay(50);
    socket.destroy();
    await waitUntil(() => log.requests.length === 1, 'the entry');
    expect(log.requests[0]).toMatchObject({ operation: 'PutObject', status: 502, errorType: 'RelayError', clientAborted: true });
    await waitUntil(() => upstream.received.length === 1, 'the upstream to see the abort');
    expect(upstream.received[0]?.complete).toBe(false);
  });

  test('a client that leaves after sending its whole request: the backend’s answer is still logged', async () => {
    let answer: (() => void) | undefined;
    upstream.handler = (_req, res) => {
      answer = () => res.writeHead(200).end('{}');
    };
    const body = '{"TableName":"t","Item":{"LockID":{"S":"b/k"}},"ConditionExpression":"attribute_not_exists(LockID)"}';
    const socket = net.connect(port(relay.endpoints.dynamodb), '127.0.0.1');
    await once(socket, 'connect');
    socket.write(`POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: DynamoDB_20120810.PutItem\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    await waitUntil(() => answer !== undefined, 'the upstream to get the request');
    socket.destroy(); // e.g. terraform SIGKILLed while its PutItem is in flight
    await delay(30);
    answer?.();
    await waitUntil(() => log.requests.length === 1, 'the entry');
    expect(log.requests[0]).toMatchObject({ operation: 'PutItem', conditional: true, status: 200, clientAborted: true });
    expect(log.requests[0]?.errorType).toBeUndefined();
  });

  test('close() closes every socket, idle keep-alive ones included', async () => {
    const socket = net.connect(port(relay.endpoints.s3), '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET /b/k HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await once(socket, 'data');
    const closed = once(socket, 'close');
    await relay.close();
    await closed;
    await expect(fetch(`${relay.endpoints.s3}/b/k`)).rejects.toThrow();
    await relay.close(); // idempotent
  });
});

describe('one upstream for both services (LocalStack)', () => {
  test('one port; X-Amz-Target decides the service; virtual-host buckets are read from Host', async () => {
    const single = await startRelay({ log, run: 'ls', upstream: { s3: `${new URL(relay.endpoints.s3).origin}`, dynamodb: new URL(relay.endpoints.s3).origin } });
    try {
      expect(single.ports).toHaveLength(1);
      expect(single.endpoints.s3).toBe(single.endpoints.dynamodb);
      // (the single relay's upstream is the first relay: a chain, as harmless as any proxy)
      await fetch(single.endpoints.dynamodb, { method: 'POST', headers: { 'x-amz-target': 'DynamoDB_20120810.Scan' }, body: '{"TableName":"t"}' }).then((r) => r.text());
      await rawExchange(single.ports[0] as number, ['GET /lab/terraform.tfstate HTTP/1.1\r\nHost: tfstate.localhost:4566\r\nConnection: close\r\n\r\n']);
      await waitUntil(() => log.forRun('ls').length === 2, 'two entries');
      expect(log.forRun('ls').map((r) => [r.service, r.operation, r.bucket, r.key, r.table])).toEqual([
        ['dynamodb', 'Scan', undefined, undefined, 't'],
        ['s3', 'GetObject', 'tfstate', 'lab/terraform.tfstate', undefined],
      ]);
    } finally {
      await single.close();
    }
  });
});
