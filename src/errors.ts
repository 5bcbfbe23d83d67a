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
