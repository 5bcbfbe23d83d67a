import { readHead } from '../util/read-head.ts';
import type { Invocation } from '../grading/types.ts';

/** The records file is writable by the script: only this much of it is read. */
const MAX_RECORDS_BYTES = 4 * 1024 * 1024;

interface StartRecord { event: 'start'; id: string; tool: string; args: string[]; tf_cli_args?: unknown; cwd: string; pid: number; started_at: number }
interface EndRecord { event: 'end'; id: string; ended_at: number; exit_code: number | null; signal: string | null }

// The start record's tf_cli_args (the wrapper's TF_CLI_ARGS* variables) when it
// is an object of strings; records written before the field existed have none.
function stringMap(value: unknown): Record<string, string> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const entries = Object.entries(value);
  return entries.every(([, v]) => typeof v === 'string') ? (Object.fromEntries(entries) as Record<string, string>) : undefined;
}

// Reads the recording wrapper's JSON lines into invocations, in start order.
// A start without an end (the wrapper was killed) has no exit_code.
export async function readInvocations(recordsFile: string): Promise<Invocation[]> {
  return parseInvocations(await readHead(recordsFile, MAX_RECORDS_BYTES).catch(() => ''));
}

/** Invocations from the records' JSON lines (other lines are ignored). */
export function parseInvocations(text: string): Invocation[] {
  const byId = new Map<string, Invocation>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let record: StartRecord | EndRecord;
    try {
      record = JSON.parse(line) as StartRecord | EndRecord;
    } catch {
      continue;
    }
    if (typeof record !== 'object' || record === null) continue;
    if (record.event === 'start') {
      const invocation: Invocation = { tool: record.tool, args: record.args, cwd: record.cwd, pid: record.pid, started_at: record.started_at };
      const tfCliArgs = stringMap(record.tf_cli_args);
      if (tfCliArgs) invocation.tf_cli_args = tfCliArgs;
      byId.set(record.id, invocation);
    } else {
      const invocation = byId.get(record.id);
      if (invocation) Object.assign(invocation, { ended_at: record.ended_at, exit_code: record.exit_code, signal: record.signal });
    }
  }
  return [...byId.values()].sort((a, b) => a.started_at - b.started_at);
}
