import type { Invocation } from '../grading/types.ts';
import { envArgsVariable, parseInvocationArgs, type ParsedInvocation } from './terraform-args.ts';

/** A recorded invocation with its parsed arguments. */
export interface ParsedRecord {
  invocation: Invocation;
  parsed: ParsedInvocation;
}

/**
 * Parses each recorded invocation as terraform saw it: the recorded arguments
 * plus the words of the TF_CLI_ARGS / TF_CLI_ARGS_<subcommand> variables the
 * recording wrapper found in its environment (records without that field are
 * read from their arguments alone).
 */
export function parseRecords(invocations: Invocation[]): ParsedRecord[] {
  return invocations.map((invocation) => ({ invocation, parsed: parseInvocationArgs(invocation.args, invocation.tf_cli_args) }));
}

/** A value as a shell would need it written: bare when safe, else single-quoted. */
function shellWord(text: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * How an invocation reads in feedback: "terraform apply -lock=false (exit 0)".
 * The TF_CLI_ARGS variables terraform read for it come first, as a shell would show them:
 * "TF_CLI_ARGS_apply=-lock=false terraform apply -auto-approve (exit 0)".
 */
export function describeInvocation(invocation: Invocation): string {
  const ended = invocation.exit_code === undefined ? 'did not finish' : invocation.exit_code === null ? `killed by ${invocation.signal}` : `exit ${invocation.exit_code}`;
  const env = invocation.tf_cli_args ?? {};
  const names = ['TF_CLI_ARGS', envArgsVariable(parseInvocationArgs(invocation.args).subcommand)];
  const prefix = names.map((name) => (env[name] ? `${name}=${shellWord(env[name])} ` : '')).join('');
  return `${prefix}${invocation.tool} ${invocation.args.join(' ')} (${ended})`;
}

/** State-writing commands with locking switched off (on the command line or through TF_CLI_ARGS*). */
export function unlockedWrites(records: ParsedRecord[]): ParsedRecord[] {
  return records.filter((record) => record.parsed.stateWriting && record.parsed.lockDisabled);
}

export function forceUnlocks(records: ParsedRecord[]): ParsedRecord[] {
  return records.filter((record) => record.parsed.subcommand === 'force-unlock');
}

/** Commands terraform refused to run because of their command line (e.g. `-lock-timeout=300`: no unit). */
export function rejectedCommandLines(records: ParsedRecord[]): ParsedRecord[] {
  return records.filter((record) => record.parsed.rejected !== undefined);
}
