import type { Invocation } from '../grading/types.ts';
import { parseInvocationArgs, type ParsedInvocation } from './terraform-args.ts';

/** A recorded invocation with its parsed arguments. */
export interface ParsedRecord {
  invocation: Invocation;
  parsed: ParsedInvocation;
}

export function parseRecords(invocations: Invocation[]): ParsedRecord[] {
  return invocations.map((invocation) => ({ invocation, parsed: parseInvocationArgs(invocation.args) }));
}

/** How an invocation reads in feedback: "terraform apply -lock=false (exit 0)". */
export function describeInvocation(invocation: Invocation): string {
  const ended = invocation.exit_code === undefined ? 'did not finish' : invocation.exit_code === null ? `killed by ${invocation.signal}` : `exit ${invocation.exit_code}`;
  return `${invocation.tool} ${invocation.args.join(' ')} (${ended})`;
}

export function unlockedWrites(records: ParsedRecord[]): ParsedRecord[] {
  return records.filter((record) => record.parsed.stateWriting && record.parsed.lockDisabled);
}

export function forceUnlocks(records: ParsedRecord[]): ParsedRecord[] {
  return records.filter((record) => record.parsed.subcommand === 'force-unlock');
}
