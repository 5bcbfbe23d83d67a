// A recording relay: an HTTP/1.1 reverse proxy between one client of a
// grading (the harness's terraform, a learner script, ...) and the backend.
// Every exchange is forwarded unchanged and logged in a BackendLog, so the
// checks can judge what each client actually asked of S3 and DynamoDB rather
// than guessing from the final state.
//
// Why a proxy and not a hook in the emulator: the same relay works in front of
// every backend kind (embedded, LocalStack, any endpoint), and it labels each
// request with the run it came from by the port it arrived on.
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import https from 'node:https';
import { isIP, type AddressInfo, type Socket } from 'node:net';
import { classifyClient, type AliveTerraform, type BackendLog, type BackendService, type NewBackendRequest, type RequestSender } from './backend-log.ts';
import {
  classifyService,
  decodeAwsChunked,
  decodeContentEncoding,
  deleteObjectsKeys,
  postObjectKey,
  knownS3Host,
  describeDynamoDbRequest,
  describeS3Request,
  dynamoDbErrorType,
  header,
  isAwsChunked,
  s3ErrorType,
  type S3RequestFacts,
} from './classify.ts';
import type { RequestHead } from './relay-gate.ts';

export interface Relay {
  /** URLs to give clients instead of the backend's (same URL twice when one port serves both services). */
  endpoints: { s3: string; dynamodb: string };
  /** The relay's loopback ports (for a sandbox's port forwards). */
  ports: number[];
  /** Stops listening and closes every socket, inbound and upstream. */
  close(): Promise<void>;
}

export interface RelayOptions {
  log: BackendLog;
  /** Label of every request through this relay, e.g. 'harness', 'c2:recover.sh'. */
  run: string;
  upstream: { s3: string; dynamodb: string };
  /**
   * Called when a request head arrives, before it is forwarded: the client is
   * alive and waiting then, so a process watcher ticked here sees every process
   * that talks to the backend (lab.ts ticks the run's TerraformObserver). What
   * it returns is logged as the request's `terraformAlive`.
   */
  onRequest?: () => AliveTerraform[] | undefined;
  /**
   * Called with each request's head: a promise keeps the request at the relay, unforwarded, until it resolves
   * (relay-gate.ts). The log's entry says how long (heldMs); its exchange counts as open only once forwarded.
   */
  hold?: (head: RequestHead) => Promise<void> | undefined;
  /**
   * The process that sends on the connection whose client port (as the relay sees it) is given: the relay waits
   * for it before forwarding the connection's first request, and logs it as each request's `sender`
   * (learner/connection-senders.ts traces it from outside the sandbox while the client waits).
   */
  senderOf?: (remotePort: number) => Promise<RequestSender | undefined>;
}

/** S3 PutObject bodies up to this size are kept in the log (state documents are far smaller). */
export const MAX_LOGGED_BODY = 1024 * 1024;
/** DynamoDB request bodies are buffered up to this size to read their JSON (DynamoDB items are at most 400 KB). */
const MAX_DYNAMODB_REQUEST = 1024 * 1024;
/** Response bodies kept: DynamoDB GetItem answers and error bodies (enough for any error document). */
const MAX_RESPONSE_BODY = 64 * 1024;
/** Responses up to this length are relayed in one write (see the 'response' handler). */
const MAX_WHOLE_RESPONSE = 64 * 1024;
// aws-chunked framing adds ~90 bytes per chunk (hex size and signature); keep
// enough raw bytes that a 1 MiB payload still decodes.
const MAX_FRAMED_BODY = MAX_LOGGED_BODY + 64 * 1024;

/** Keeps the first `limit` bytes of a stream, or nothing once it grows past them. */
class Capture {
  private chunks: Buffer[] = [];
  private size = 0;
  overflowed = false;
  private readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }

  add(chunk: Buffer): void {
    if (this.overflowed) return;
    if (this.size + chunk.length > this.limit) {
      this.overflowed = true;
      this.chunks = [];
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  bytes(): Buffer | undefined {
    return this.overflowed ? undefined : Buffer.concat(this.chunks);
  }
}

interface Upstream {
  url: URL;
  transport: typeof http | typeof https;
  agent: http.Agent;
}

function upstreamFor(target: string): Upstream {
  const url = new URL(target);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`relay upstream must be http(s): ${target}`);
  const transport = url.protocol === 'https:' ? https : http;
  // keepAlive: terraform makes dozens of small requests; reusing upstream
  // sockets keeps the relay's overhead to a copy. Node's agent honours the
  // upstream's "Keep-Alive: timeout" hint, so it does not reuse a socket the
  // emulator is about to close.
  const agent = new transport.Agent({ keepAlive: true });
  return { url, transport, agent };
}

// Hop-by-hop response headers describe the upstream connection, not the
// client's: the relay's server writes its own for the client connection.
const HOP_BY_HOP_RESPONSE = new Set(['connection', 'keep-alive']);

function responseHeaders(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    if (!HOP_BY_HOP_RESPONSE.has(name.toLowerCase())) out.push(name, raw[i + 1] ?? '');
  }
  return out;
}

interface PortContext {
  log: BackendLog;
  run: string;
  portService: BackendService | 'both';
  upstreamOf(service: BackendService): Upstream;
  /** Host names of the upstream S3 service, for virtual-host bucket detection. */
  s3Hosts: string[];
  connectionOf(socket: Socket): number;
  onRequest?: () => AliveTerraform[] | undefined;
  hold?: (head: RequestHead) => Promise<void> | undefined;
  senderOf?: (remotePort: number) => Promise<RequestSender | undefined>;
}

// A request head arrived: the run's processes are looked at now (the client is
// waiting). With senderOf the request waits for its connection's sender to be
// traced; then a gate may keep it (hold) until it lets go. The gate decides
// when the request would be forwarded, after the trace, so nothing it holds
// back slips through while the sender was being traced.
function relayExchange(req: IncomingMessage, res: ServerResponse, ctx: PortContext): void {
  const alive = ctx.onRequest?.();
  const at = Date.now();
  const service = classifyService(req.headers, ctx.portService);
  const s3Facts: S3RequestFacts | undefined = service === 's3' ? describeS3Request(req.method ?? 'GET', req.url ?? '/', req.headers, ctx.s3Hosts) : undefined;
  const operation = s3Facts ? s3Facts.operation : header(req.headers, 'x-amz-target')?.split('.').at(-1);
  const port = req.socket.remotePort;
  const traced = ctx.senderOf && port !== undefined ? ctx.senderOf(port) : undefined;
  const head: Head = { alive, at, service, s3Facts, ...(traced ? { waited: true } : {}) };
  const proceed = (sender: RequestSender | undefined) => {
    const withSender: Head = sender ? { ...head, sender } : head;
    const since = Date.now();
    const held = ctx.hold?.({ service, operation, ...(s3Facts?.key !== undefined ? { key: s3Facts.key } : {}) });
    if (!held) {
      forwardExchange(req, res, ctx, withSender);
      return;
    }
    void held.then(() => forwardExchange(req, res, ctx, { ...withSender, waited: true, heldMs: Date.now() - since }));
  };
  // The body stays in the paused request until it is forwarded; a client that leaves meanwhile is logged then.
  req.on('error', () => undefined);
  res.on('error', () => undefined);
  if (traced) void traced.then(proceed);
  else proceed(undefined);
}

interface Head {
  alive: AliveTerraform[] | undefined;
  at: number;
  service: BackendService;
  s3Facts: S3RequestFacts | undefined;
  /** The request waited at the relay (a gate, or the trace of its sender) before it was forwarded. */
  waited?: boolean;
  /** How long a gate kept the request at the relay before it was forwarded. */
  heldMs?: number;
  /** The process that sent it (senderOf). */
  sender?: RequestSender;
}

// One exchange: forward the request as received, stream the response back,
// keep what the log needs, append the entry once (when the response is fully
// sent, or when the exchange fails).
function forwardExchange(req: IncomingMessage, res: ServerResponse, ctx: PortContext, head: Head): void {
  const { alive, at, service, s3Facts, sender } = head;
  ctx.log.opened(ctx.run);
  const method = req.method ?? 'GET';
  const url = req.url ?? '/';
  const upstream = ctx.upstreamOf(service);
  const userAgent = header(req.headers, 'user-agent') ?? '';
  const connection = ctx.connectionOf(req.socket);

  // What to keep of the bodies: the whole DynamoDB request (small JSON), an S3
  // PutObject body (the state document, a .tflock), a DeleteObjects body (the
  // keys it deletes: a state or a .tflock may be among them), and response
  // bodies that carry an error code or the lock a GetItem read.
  const keepRequest =
    service === 'dynamodb'
      ? new Capture(MAX_DYNAMODB_REQUEST)
      : s3Facts?.operation === 'PutObject' || s3Facts?.operation === 'DeleteObjects' || s3Facts?.operation === 'PostObject'
        ? new Capture(isAwsChunked(req.headers) ? MAX_FRAMED_BODY : MAX_LOGGED_BODY)
        : undefined;
  let keepResponse: Capture | undefined;

  let requestComplete = false;
  let status: number | undefined;
  let responseEncoding: string | undefined;
  let logged = false;
  let refusedHost: string | undefined;

  const finish = (failure?: string, clientAborted = false) => {
    if (logged) return;
    logged = true;
    ctx.log.append(buildEntry(failure, clientAborted));
  };

  const buildEntry = (failure: string | undefined, clientAborted: boolean): NewBackendRequest => {
    const entry: NewBackendRequest = {
      at,
      endAt: Date.now(),
      run: ctx.run,
      connection,
      service,
      operation: s3Facts?.operation ?? `Other:${method}`,
      conditional: s3Facts?.conditional ?? false,
      status: failure === undefined && status !== undefined ? status : 502,
      userAgent,
      client: classifyClient(userAgent),
      ...(alive ? { terraformAlive: alive } : {}),
      ...(head.heldMs !== undefined ? { heldMs: head.heldMs } : {}),
      ...(sender ? { sender } : {}),
      ...(refusedHost !== undefined ? { hostRefused: refusedHost } : {}),
    };
    const requestBody = keepRequest?.bytes();
    const rawResponse = keepResponse?.bytes();
    const responseBody = rawResponse && decodeContentEncoding(rawResponse, responseEncoding)?.toString('utf8');
    if (service === 'dynamodb') {
      const facts = describeDynamoDbRequest(header(req.headers, 'x-amz-target'), method, requestBody?.toString('utf8'));
      entry.operation = facts.operation;
      entry.conditional = facts.conditional;
      if (facts.table !== undefined) entry.table = facts.table;
      if (facts.lockId !== undefined) entry.lockId = facts.lockId;
      if (facts.item !== undefined) entry.item = facts.item;
      if (facts.condition !== undefined) entry.condition = facts.condition;
      if (facts.partiqlWrite) entry.partiqlWrite = true;
      if (failure === undefined && responseBody !== undefined) {
        if (entry.status >= 400) {
          const type = dynamoDbErrorType(responseBody);
          if (type !== undefined) entry.errorType = type;
        }
        if (facts.operation === 'GetItem') entry.responseBody = responseBody;
      }
    } else if (s3Facts) {
      if (s3Facts.bucket !== undefined) entry.bucket = s3Facts.bucket;
      if (s3Facts.key !== undefined) entry.key = s3Facts.key;
      if (requestBody !== undefined) {
        const payload = isAwsChunked(req.headers) ? (decodeAwsChunked(requestBody) ?? requestBody) : requestBody;
        if (s3Facts.operation === 'DeleteObjects') entry.keys = deleteObjectsKeys(payload.toString('utf8'));
        else if (s3Facts.operation === 'PostObject') {
          const key = postObjectKey(header(req.headers, 'content-type'), payload.toString('latin1'));
          if (key !== undefined) entry.key = key;
        } else if (payload.length <= MAX_LOGGED_BODY) entry.body = payload.toString('utf8');
      }
      if (failure === undefined) {
        const type = s3ErrorType(method, entry.status, responseBody);
        if (type !== undefined) entry.errorType = type;
      }
    }
    if (failure !== undefined) {
      entry.errorType = 'RelayError';
      entry.relayError = failure;
    }
    if (clientAborted) entry.clientAborted = true;
    return entry;
  };

  if (head.waited === true && (res.destroyed || req.destroyed)) {
    finish('the client disconnected while its request was held at the relay', true);
    return;
  }

  // A Host the classifier cannot read the bucket from the way the backend does is refused, never forwarded.
  const host = header(req.headers, 'host');
  if (s3Facts && !knownS3Host(host, ctx.s3Hosts)) {
    const body = `lockgrader relay: S3 requests must name the endpoint they were given (an IP address or localhost), not Host ${JSON.stringify(host)}\n`;
    if (!res.headersSent && !res.destroyed) {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
      res.end(body);
    }
    req.resume();
    refusedHost = host ?? '';
    finish(`refused: Host ${JSON.stringify(host)} is not the endpoint's`);
    return;
  }

  const bareHost = upstream.url.hostname.replace(/^\[|\]$/g, '');
  let upstreamReq: http.ClientRequest;
  try {
    upstreamReq = upstream.transport.request({
      protocol: upstream.url.protocol,
      hostname: bareHost,
      port: upstream.url.port || (upstream.url.protocol === 'https:' ? 443 : 80),
      // SNI needs a host name; an IP address there is deprecated (DEP0123).
      ...(isIP(bareHost) === 0 ? { servername: bareHost } : {}),
      method,
      path: url,
      // The raw header list, in the client's order and spelling, Host
      // included: SigV4 signs Host and the other headers as the client sent them.
      headers: req.rawHeaders,
      agent: upstream.agent,
    });
  } catch (error) {
    // e.g. a header value node refuses to send
    failBeforeResponse(res, String(error));
    finish(String(error));
    req.resume();
    return;
  }

  upstreamReq.on('response', (upstreamRes) => {
    status = upstreamRes.statusCode ?? 502;
    responseEncoding = header(upstreamRes.headers, 'content-encoding');
    const wantsBody =
      method !== 'HEAD' &&
      ((service === 'dynamodb' && (status >= 400 || header(req.headers, 'x-amz-target')?.endsWith('.GetItem') === true)) ||
        (service === 's3' && status >= 300));
    if (wantsBody) keepResponse = new Capture(MAX_RESPONSE_BODY);
    upstreamRes.on('data', (chunk: Buffer) => keepResponse?.add(chunk));
    // A small response with a known length is sent whole, head and body in
    // one write, as the emulators themselves send it. Go's net/http (hence
    // terraform) has a race: when response headers arrive before its write
    // loop has finished with the request body, the SDK closes that body, the
    // write loop closes the connection, and a body still to come is lost
    // ("use of closed network connection"; the SDK retries, and a retried
    // conditional PutItem is refused by the lock it just took). Sending the
    // head alone first made that happen to about one terraform apply in 20.
    const length = Number(header(upstreamRes.headers, 'content-length') ?? Number.NaN);
    const whole = method !== 'HEAD' && Number.isInteger(length) && length <= MAX_WHOLE_RESPONSE ? ([] as Buffer[]) : undefined;
    if (res.destroyed) {
      // The client is gone but the backend answered: drain it, log what it did.
      upstreamRes.resume();
    } else {
      try {
        res.writeHead(status, upstreamRes.statusMessage, responseHeaders(upstreamRes.rawHeaders));
      } catch (error) {
        // A header node will not send (invalid characters): the exchange fails, the process does not.
        upstreamReq.destroy();
        status = undefined;
        failBeforeResponse(res, `the backend's response head could not be relayed: ${String(error)}`);
        finish(String(error));
        return;
      }
      // Larger or unknown-length bodies stream; node sends the head with the first chunk.
      if (whole) upstreamRes.on('data', (chunk: Buffer) => whole.push(chunk));
      else upstreamRes.pipe(res, { end: false });
    }
    upstreamRes.on('end', () => {
      if (res.destroyed) {
        finish(undefined, true);
        return;
      }
      if (upstreamRes.rawTrailers.length > 0) res.addTrailers(pairs(upstreamRes.rawTrailers));
      if (whole) res.end(Buffer.concat(whole));
      else res.end();
    });
    upstreamRes.on('error', (error) => abortMidResponse(`upstream response failed after status ${status}: ${error.message}`));
    upstreamRes.on('close', () => {
      if (!upstreamRes.complete) abortMidResponse(`upstream closed the response after status ${status} before it was complete`);
    });
  });

  const abortMidResponse = (why: string) => {
    finish(why);
    // Cut the client's connection: a truncated body must not look complete.
    res.destroy();
  };

  upstreamReq.on('error', (error) => {
    if (logged) return;
    if (status === undefined) {
      failBeforeResponse(res, error.message);
      finish(error.message, res.destroyed);
    } else {
      abortMidResponse(error.message);
    }
  });

  res.on('finish', () => finish());
  res.on('close', () => {
    if (res.writableFinished || logged) return;
    if (!requestComplete) {
      // The client left mid-request: the backend never got a whole request.
      upstreamReq.destroy();
      finish('the client disconnected before the request was complete', true);
    } else if (status !== undefined) {
      // The client left while the answer was streaming: the backend acted
      // (its status is known), only the client did not hear all of it.
      finish(undefined, true);
      upstreamReq.destroy();
    }
    // Otherwise the backend has the whole request but has not answered yet:
    // keep the upstream exchange so the log records what the backend did
    // (a lock taken by a client killed mid-request is still a lock).
  });
  // Errors of a vanished client are expected here (ECONNRESET, 'aborted');
  // the 'close' handler above records them.
  req.on('error', () => undefined);
  res.on('error', () => undefined);

  req.on('data', (chunk: Buffer) => keepRequest?.add(chunk));
  req.on('end', () => {
    requestComplete = true;
    if (req.rawTrailers.length > 0) upstreamReq.addTrailers(pairs(req.rawTrailers));
  });
  req.pipe(upstreamReq);
}

function pairs(raw: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i] ?? '', raw[i + 1] ?? '']);
  return out;
}

function failBeforeResponse(res: ServerResponse, why: string): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = `lockgrader relay: the backend could not be reached: ${why}\n`;
  res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function sameOrigin(a: string, b: string): boolean {
  return new URL(a).origin === new URL(b).origin;
}

/**
 * Starts a relay on 127.0.0.1 ephemeral ports: one per service, or one for
 * both when the two upstream URLs are the same origin (LocalStack, moto).
 */
export async function startRelay(options: RelayOptions): Promise<Relay & AsyncDisposable> {
  const { log, run } = options;
  const s3 = upstreamFor(options.upstream.s3);
  const dynamodb = sameOrigin(options.upstream.s3, options.upstream.dynamodb) ? s3 : upstreamFor(options.upstream.dynamodb);
  const upstreamOf = (service: BackendService) => (service === 's3' ? s3 : dynamodb);
  const connectionIds = new WeakMap<Socket, number>();
  const servers: Server[] = [];

  const makeServer = (portService: BackendService | 'both') => {
    const ctx: PortContext = {
      log,
      run,
      portService,
      upstreamOf,
      s3Hosts: [s3.url.hostname],
      connectionOf: (socket) => connectionIds.get(socket) ?? 0,
      ...(options.onRequest ? { onRequest: options.onRequest } : {}),
      ...(options.hold ? { hold: options.hold } : {}),
      ...(options.senderOf ? { senderOf: options.senderOf } : {}),
    };
    // No 'checkContinue' listener: node answers "Expect: 100-continue" with
    // "100 Continue" itself, and the request is relayed like any other (its
    // Expect header included; the upstream's own 100 is consumed by node).
    const server = http.createServer({ keepAlive: true }, (req, res) => relayExchange(req, res, ctx));
    server.on('connection', (socket: Socket) => connectionIds.set(socket, log.nextConnectionId()));
    // A malformed request never reaches relayExchange; answer it like node would.
    server.on('clientError', (_error, socket: Socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    servers.push(server);
    return server;
  };

  let endpoints: Relay['endpoints'];
  const ports: number[] = [];
  try {
    if (s3 === dynamodb) {
      const port = await listen(makeServer('both'));
      ports.push(port);
      endpoints = { s3: `http://127.0.0.1:${port}`, dynamodb: `http://127.0.0.1:${port}` };
    } else {
      const s3Port = await listen(makeServer('s3'));
      const ddbPort = await listen(makeServer('dynamodb'));
      ports.push(s3Port, ddbPort);
      endpoints = { s3: `http://127.0.0.1:${s3Port}`, dynamodb: `http://127.0.0.1:${ddbPort}` };
    }
  } catch (error) {
    await closeAll();
    throw error;
  }

  let closing: Promise<void> | undefined;
  async function closeAll(): Promise<void> {
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            if (!server.listening) {
              resolve();
              return;
            }
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
    s3.agent.destroy();
    dynamodb.agent.destroy();
  }
  const close = () => {
    closing ??= closeAll();
    return closing;
  };
  return { endpoints, ports, close, [Symbol.asyncDispose]: close };
}
