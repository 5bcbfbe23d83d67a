import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { LockgraderError } from '../errors.ts';

// node:util parseArgs with positionals allowed, its errors turned into USAGE
// errors (exit 2) naming the unknown or malformed option.
export function parseCommandArgs<T extends ParseArgsOptionsConfig>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options, strict: true });
  } catch (error) {
    throw new LockgraderError('USAGE', (error as Error).message);
  }
}
