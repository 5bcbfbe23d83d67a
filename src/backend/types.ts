/** The AWS services a lab needs, as URLs the SDK, terraform and the AWS CLI can use. */
export interface BackendEndpoints {
  s3: string;
  dynamodb: string;
  /** Set when one URL serves every service (LocalStack, moto): AWS_ENDPOINT_URL. */
  single?: string;
}

export interface BackendCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

export type BackendKind = 'embedded' | 'moto' | 'localstack' | 'endpoint';

/**
 * What a backend kind claims it can do. The backend contract suite
 * (test/terraform/backend-contract.test.ts) measures every claim and fails a
 * backend whose claim is wrong; undefined means "not claimed" (a backend
 * someone else runs): the capability self-test decides at grading time.
 */
export interface BackendCapabilities {
  /** S3 PutObject honours If-None-Match: * (412 when the key exists, one winner among concurrent writers): use_lockfile needs it. */
  s3ConditionalWrites: boolean | undefined;
}

/** Which emulator answers one service, and why when it is not the backend's own. */
export interface ServiceSource {
  /** The emulator and its version, e.g. "LocalStack 2026.3.0 (...)" or "dynalite 4.0.0 (in-process)". */
  servedBy: string;
  /** Set when the backend's own emulator does not serve this service here: why (another serves it). */
  substitutedBecause?: string;
}

/** A running backend. Many gradings can share one: each gets its own bucket and table. */
export interface StartedBackend {
  readonly kind: BackendKind;
  readonly endpoints: BackendEndpoints;
  readonly credentials: BackendCredentials;
  /** Human-readable: which emulators serve it (e.g. "dynalite 4.0.0 + s3rver 3.7.1"). */
  readonly description: string;
  /** How long start() took. */
  readonly startMs: number;
  readonly capabilities: BackendCapabilities;
  /** Which emulator serves S3 and which DynamoDB, when they differ from what the kind suggests (localstack). */
  readonly services?: { s3: ServiceSource; dynamodb: ServiceSource };
  stop(): Promise<void>;
}

/**
 * What one grading (or a verify run) grades on. The emulators lockgrader runs
 * itself (embedded, moto) are started per lab: every challenge gets a private
 * instance (`startPrivate`), stopped with it, so a learner script of one
 * challenge cannot reach another's bucket or table and nothing of it outlives
 * the grading. A backend someone else runs (localstack, endpoint) is `shared`;
 * each lab still has its own bucket and table there.
 */
export interface GradingBackend {
  readonly kind: BackendKind;
  /** Which emulator and version (the results' environment.backend_description). */
  readonly description: string;
  readonly capabilities: BackendCapabilities;
  readonly shared?: StartedBackend;
  readonly startPrivate?: () => Promise<StartedBackend>;
  /** Stops the shared backend when this grading started it (a no-op otherwise). */
  stop(): Promise<void>;
}

/** Whether a backend kind can run on this machine, and if not, why. */
export interface BackendAvailability {
  kind: BackendKind;
  available: boolean;
  reason: string;
}
