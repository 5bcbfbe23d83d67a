// What every client of a grading asked the backend, in the order the answers
// came back. A relay (relay.ts) appends one BackendRequest per HTTP exchange;
// the checks and the lock history (lock-history.ts) read the list. The log is
// append-only so that evidence cannot be rewritten after the fact.

export type BackendService = 's3' | 'dynamodb';
export type ClientKind = 'terraform' | 'tofu' | 'aws-cli' | 'sdk-js' | 'other';

/** A client as feedback names it. */
export function clientName(client: ClientKind): string {
  return { terraform: 'terraform', tofu: 'tofu', 'aws-cli': 'the AWS CLI', 'sdk-js': 'an AWS SDK for JavaScript program', other: 'a program that is not terraform' }[client];
}

/** A real terraform/tofu process: its arguments and TF_CLI_ARGS* as the kernel has them (read from outside the sandbox). */
export interface AliveTerraform {
  /** Its pid as the grader sees it (outside the sandbox's pid namespace); matches RequestSender.pid. */
  pid?: number;
  args: string[];
  tf_cli_args: Record<string, string>;
  /** A copy of the binary (recognised by size, not inode): never credited with a request (it may have been patched). */
  copy?: boolean;
}

/**
 * The process that sent a request, traced from outside the sandbox through the connection it came on
 * (learner/connection-sender.ts): the relay connection, the sandbox's socat child that forwarded it, that child's
 * TCP peer inside the sandbox, and the one process holding that socket, which must have opened it itself
 * (close-on-exec set: an inherited socket was opened by another program). `terraform` is true only when that
 * process is the real terraform/tofu binary; `pid` is set whenever one process was found.
 */
export interface RequestSender {
  terraform: boolean;
  pid?: number;
  /** For feedback, after "sent by": 'terraform (pid 41)', 'curl (pid 57)', 'a process the grader could not trace (...)', ... */
  detail: string;
}

export interface BackendRequest {
  /** Order of arrival in this log (0, 1, 2, ...): requests[i].seq === i. */
  seq: number;
  /** Epoch ms: the request head was received. */
  at: number;
  /** Epoch ms: the response was fully sent (or the exchange failed). */
  endAt: number;
  /** Label of the relay it came through, e.g. 'harness', 'c2:recover.sh'. */
  run: string;
  /** Id of the inbound TCP connection (unique per log, across relays). */
  connection: number;
  service: BackendService;
  /**
   * DynamoDB: the X-Amz-Target operation (PutItem, GetItem, ...).
   * S3: GetObject, PutObject, DeleteObject, DeleteObjects, HeadObject, ListObjects (v1 and v2),
   * ListBuckets, CreateBucket, DeleteBucket, HeadBucket, CopyObject, the multipart upload's CreateMultipartUpload,
   * UploadPart, UploadPartCopy, CompleteMultipartUpload (which writes the key), AbortMultipartUpload, ListParts,
   * PostObject (a browser-form upload: its key read from the form, when kept), or 'Other:<METHOD>'.
   */
  operation: string;
  /** DynamoDB TableName. */
  table?: string;
  /** DynamoDB Key.LockID.S (Item.LockID.S for PutItem). */
  lockId?: string;
  /** S3 bucket, from the path or from a virtual-host name. */
  bucket?: string;
  /** S3 object key, URL-decoded. */
  key?: string;
  /** S3 DeleteObjects: the keys its request body names (when the body was read whole). */
  keys?: string[];
  /** DynamoDB ConditionExpression/Expected present; S3 If-None-Match/If-Match header present. */
  conditional: boolean;
  /** HTTP status of the response (502 when the relay could not complete the exchange). */
  status: number;
  /** DynamoDB __type after '#'; S3 XML <Code>; for HEAD errors the status name ('NotFound'); 'RelayError'. */
  errorType?: string;
  userAgent: string;
  client: ClientKind;
  /** DynamoDB PutItem: the S attributes of Item; GetItem/DeleteItem/UpdateItem: the S attributes of Key. */
  item?: Record<string, string>;
  /** DynamoDB ConditionExpression text. */
  condition?: string;
  /**
   * DynamoDB PartiQL (ExecuteStatement, BatchExecuteStatement, ExecuteTransaction) with an INSERT, UPDATE or DELETE:
   * a write of a table whose item and key are inside the statement text (c3-cheat-partiql-delete-lock).
   */
  partiqlWrite?: true;
  /** S3 PutObject request body as utf8 when <= 1 MiB (aws-chunked framing removed). */
  body?: string;
  /** DynamoDB GetItem response body when <= 64 KiB, so a reader of the lock is visible. */
  responseBody?: string;
  /** The client went away before the response was fully sent (the backend may still have acted). */
  clientAborted?: boolean;
  /** For errorType 'RelayError': what failed (e.g. 'connect ECONNREFUSED 127.0.0.1:1'). */
  relayError?: string;
  /** The relay refused this S3 request, not forwarded, for its Host header (not the endpoint's: knownS3Host). */
  hostRefused?: string;
  /**
   * The real terraform/tofu processes alive in the request's run as it arrived, seen from outside the sandbox
   * (learner/process-observer.ts, ticked by the relay while the client waits): set only for runs the grader
   * watches. A request from terraform has its own process among them; one from a program that only claims to
   * be terraform in its User-Agent does not, unless a real one happens to be running.
   */
  terraformAlive?: AliveTerraform[];
  /** How long the request waited at the relay before it was forwarded (a closed LockWriteGate: relay-gate.ts). */
  heldMs?: number;
  /**
   * The process that sent it, traced through its connection (set for watched runs in a sandbox with its own
   * network; undefined elsewhere: then only terraformAlive says which real processes ran).
   */
  sender?: RequestSender;
}

/** The request fields a relay knows; the log assigns seq. */
export type NewBackendRequest = Omit<BackendRequest, 'seq'>;

type Listener = (request: BackendRequest) => void;

// The client is named from where its product tokens stand in the User-Agent,
// not from a word anywhere in it: the AWS CLI appends learner-controlled text
// (AWS_EXECUTION_ENV becomes "exec-env/...", user_agent_extra), so the first
// token decides for the CLI and the JS SDK, and terraform/tofu are recognised
// only as the Go SDK programs they are, named before the aws-sdk-go token
// ("APN/1.0 HashiCorp/1.0 Terraform/1.11.4 (+https://www.terraform.io)
// aws-sdk-go-v2/1.36.0 ...", "APN/1.0 OpenTofu/1.11.5 aws-sdk-go-v2/..."). Older
// releases (OpenTofu 1.6, with an aws-sdk-go-base v2 beta) append the APN
// block after the SDK's own tokens instead: "aws-sdk-go-v2/1.23.2 os/linux
// lang/go#1.26.8 md/GOOS#linux md/GOARCH#amd64 api/s3#1.46.0 APN/1.0
// OpenTofu/1.6.3" (seen here; fixtures/terraform-output/user-agents.lines); that
// form counts only as the Go SDK's header ending in the APN block. A program
// that forges the whole header (its own SigV4 client) is not stopped here;
// docs/grading.md says what that does and does not earn.
export function classifyClient(userAgent: string): ClientKind {
  const ua = userAgent.trim();
  const first = ua.split(/\s+/)[0] ?? '';
  if (first.startsWith('aws-cli/')) return 'aws-cli';
  if (first.startsWith('aws-sdk-js/')) return 'sdk-js';
  const sdk = /(^|\s)aws-sdk-go(-v2)?\//.exec(ua);
  if (!sdk) return 'other';
  const products = sdk.index === 0 ? trailingApnBlock(ua) : ua.slice(0, sdk.index);
  if (/(^|\s)OpenTofu\/\d/.test(products)) return 'tofu';
  if (/(^|\s)Terraform\/\d/.test(products)) return 'terraform';
  return 'other';
}

/** The APN product block that ends a Go SDK header ("... api/s3#1.46.0 APN/1.0 OpenTofu/1.6.3"), or ''. */
function trailingApnBlock(ua: string): string {
  return /\sAPN\/1\.0((?:\s[\w.-]+\/[\w.+-]+)+(?:\s\(\+https?:\/\/[^\s()]+\))?)$/.exec(ua)?.[1] ?? '';
}

export class BackendLog {
  private readonly list: BackendRequest[] = [];
  private readonly listeners = new Set<Listener>();
  private connections = 0;
  /** Per run: exchanges whose request head arrived and whose entry is not appended yet. */
  private readonly open = new Map<string, number>();

  /** Every request so far, oldest answer first. */
  get requests(): readonly BackendRequest[] {
    return this.list;
  }

  /** A fresh id for an inbound TCP connection (ids are unique in this log, whichever relay accepted it). */
  nextConnectionId(): number {
    this.connections += 1;
    return this.connections;
  }

  /** A relay received a request head of this run; its entry comes with the answer (append). */
  opened(run: string): void {
    this.open.set(run, (this.open.get(run) ?? 0) + 1);
  }

  /** This run's exchanges in flight: asked, not answered (nor failed) yet. */
  openExchanges(run: string): number {
    return this.open.get(run) ?? 0;
  }

  append(request: NewBackendRequest): BackendRequest {
    const open = this.open.get(request.run) ?? 0;
    if (open > 0) this.open.set(request.run, open - 1);
    const entry: BackendRequest = { seq: this.list.length, ...request };
    this.list.push(entry);
    // A throwing listener must not lose the entry for the others, nor break the relay.
    for (const listener of [...this.listeners]) {
      try {
        listener(entry);
      } catch {
        // ignored on purpose: listeners are observers
      }
    }
    return entry;
  }

  /** Calls listener for every request appended from now on; returns the unsubscribe function. */
  onRequest(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Resolves with the first request (already logged or future) matching pred; rejects when signal aborts. */
  waitFor(pred: (request: BackendRequest) => boolean, options: { signal?: AbortSignal } = {}): Promise<BackendRequest> {
    const { signal } = options;
    let found: BackendRequest | undefined;
    try {
      found = this.list.find(pred);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    if (found) return Promise.resolve(found);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        unsubscribe();
        reject(signal?.reason);
      };
      const unsubscribe = this.onRequest((request) => {
        let matched: boolean;
        try {
          matched = pred(request);
        } catch (error) {
          // A predicate that throws ends the wait instead of leaving it pending forever.
          unsubscribe();
          signal?.removeEventListener('abort', onAbort);
          reject(error);
          return;
        }
        if (!matched) return;
        unsubscribe();
        signal?.removeEventListener('abort', onAbort);
        resolve(request);
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The requests that came through the relay labelled run. */
  forRun(run: string): BackendRequest[] {
    return this.list.filter((request) => request.run === run);
  }
}
