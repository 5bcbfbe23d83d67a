// Number-valued options: USAGE errors (exit 2) that name the flag and the value.
import { LockgraderError } from '../errors.ts';

/** A whole number >= min, or the fallback when the option is absent. */
export function wholeNumberOption(flag: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min) throw new LockgraderError('USAGE', `${flag} takes a whole number >= ${min} (got "${value}")`, { flag, value });
  return number;
}

/** Seconds >= 0 (fractions allowed), or the fallback when the option is absent. */
export function secondsOption<T extends number | undefined>(flag: string, value: string | undefined, fallback: T): number | T {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < 0) throw new LockgraderError('USAGE', `${flag} takes seconds >= 0 (got "${value}")`, { flag, value });
  return number;
}
