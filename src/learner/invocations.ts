import { readFile } from 'node:fs/promises';
import type { Invocation } from '../grading/types.ts';

interface StartRecord { event: 'start'; id: string; tool: string; args: string[]; cwd: string; pid: number; started_at: number }
interface EndRecord { event: 'end'; id: string; ended_at: number; exit_code: number | null; signal: string | null }

// Reads the recording wrapper's JSON lines into invocations, in start order.
// A start without an end (the wrapper was killed) has no exit_code.
export async function readInvocations(recordsFile: string): Promise<Invocation[]> {
  let text: string;
  try {
    text = await readFile(recordsFile, 'utf8');
  } catch {
    return [];
  }
  const byId = new Map<string, Invocation>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let record: StartRecord | EndRecord;
    try {
      record = JSON.parse(line) as StartRecord | EndRecord;
    } catch {
      continue;
    }
    if (record.event === 'start') {
      byId.set(record.id, { tool: record.tool, args: record.args, cwd: record.cwd, pid: record.pid, started_at: record.started_at });
    } else {
      const invocation = byId.get(record.id);
      if (invocation) Object.assign(invocation, { ended_at: record.ended_at, exit_code: record.exit_code, signal: record.signal });
    }
  }
  return [...byId.values()].sort((a, b) => a.started_at - b.started_at);
}
