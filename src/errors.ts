// Errors with a stable code and structured fields. Three kinds stay apart:
// usage errors (the caller's input), infrastructure faults (the harness or the
// lab could not run) and internal bugs. Learner mistakes are never errors:
// they are check results.

export type ErrorCode =
  | 'USAGE'
  | 'SUBMISSION_UNREADABLE'
  | 'TERRAFORM_NOT_FOUND'
  | 'TERRAFORM_FAILED'
  | 'BACKEND_UNAVAILABLE'
  | 'BACKEND_FAILED'
  | 'WAIT_TIMEOUT'
  | 'REPLAY_FAILED'
  | 'SANDBOX_UNAVAILABLE'
  | 'ABORTED'
  | 'JOB_INVALID'
  | 'QUEUE_UNAVAILABLE'
  | 'STORAGE_UNAVAILABLE'
  | 'INTERNAL';

export class LockgraderError extends Error {
  readonly code: ErrorCode;
  readonly fields: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, fields: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LockgraderError';
    this.code = code;
    this.fields = fields;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.fields };
  }
}

export function isLockgraderError(error: unknown, code?: ErrorCode): error is LockgraderError {
  return error instanceof LockgraderError && (code === undefined || error.code === code);
}

/**
 * The one table from error code to `grade`'s exit status (contract: 2 usage
 * error or unreadable submission; 3 the grading itself could not complete).
 */
export const EXIT_STATUS: Readonly<Record<ErrorCode, 2 | 3>> = {
  USAGE: 2,
  SUBMISSION_UNREADABLE: 2,
  TERRAFORM_NOT_FOUND: 3,
  TERRAFORM_FAILED: 3,
  BACKEND_UNAVAILABLE: 3,
  BACKEND_FAILED: 3,
  WAIT_TIMEOUT: 3,
  REPLAY_FAILED: 3,
  SANDBOX_UNAVAILABLE: 3,
  ABORTED: 3,
  // A queue job whose data is not a lockgrader job: retrying cannot help.
  JOB_INVALID: 2,
  // Redis could not be reached (enqueue, worker start).
  QUEUE_UNAVAILABLE: 3,
  // Object storage holding an upload could not be read (not: the object is missing, which is 2).
  STORAGE_UNAVAILABLE: 3,
  INTERNAL: 3,
};

/** The exit status for any thrown value: its code's, or 3 for anything unexpected. */
export function exitStatusOf(error: unknown): 2 | 3 {
  return isLockgraderError(error) ? EXIT_STATUS[error.code] : 3;
}

/** The code and message of any thrown value, for the results file (codes survive to it). */
export function errorRecord(error: unknown): { code: ErrorCode; message: string } {
  if (isLockgraderError(error)) return { code: error.code, message: error.message };
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}
