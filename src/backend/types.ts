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

export type BackendKind = 'embedded' | 'localstack' | 'endpoint';

/** A running backend. Many gradings can share one: each gets its own bucket and table. */
export interface StartedBackend {
  readonly kind: BackendKind;
  readonly endpoints: BackendEndpoints;
  readonly credentials: BackendCredentials;
  /** Human-readable: which emulators serve it (e.g. "dynalite 4.0.0 + s3rver 3.7.1"). */
  readonly description: string;
  /** How long start() took. */
  readonly startMs: number;
  stop(): Promise<void>;
}

/** Whether a backend kind can run on this machine, and if not, why. */
export interface BackendAvailability {
  kind: BackendKind;
  available: boolean;
  reason: string;
}
