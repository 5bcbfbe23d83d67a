// What terraform/tofu keep in the lab's store, as data: the Lock Info of a
// lock item or .tflock object, and a state object with what the checks read of
// it. Pure: parsing never throws (a learner may write anything there).
import { createHash } from 'node:crypto';

/** The lock item's Info attribute, as terraform/tofu write it (lock-protocol.md §1). */
export interface LockInfo {
  ID: string;
  Operation: string;
  Info: string;
  Who: string;
  Version: string;
  Created: string;
  Path: string;
}

export interface StateObject {
  body: string;
  md5: string;
  serial: number | undefined;
  lineage: string | undefined;
  /** Parsed JSON, or undefined when the body is not JSON. */
  json: Record<string, unknown> | undefined;
}

/** Lock Info from an Info attribute or a .tflock body, or undefined when it is not Lock Info JSON. */
export function parseLockInfo(raw: string): LockInfo | undefined {
  try {
    const parsed = JSON.parse(raw) as Partial<LockInfo> | null;
    if (!parsed || typeof parsed !== 'object' || typeof parsed.ID !== 'string') return undefined;
    const text = (value: unknown) => (typeof value === 'string' ? value : '');
    return { ID: parsed.ID, Operation: text(parsed.Operation), Info: text(parsed.Info), Who: text(parsed.Who), Version: text(parsed.Version), Created: text(parsed.Created), Path: text(parsed.Path) };
  } catch {
    return undefined;
  }
}

/** A state object's body with what the checks read of it (any text: a learner may write anything). */
export function stateObject(body: string): StateObject {
  let json: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    json = parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    json = undefined;
  }
  return {
    body,
    md5: createHash('md5').update(body, 'utf8').digest('hex'),
    json,
    serial: typeof json?.serial === 'number' ? json.serial : undefined,
    lineage: typeof json?.lineage === 'string' ? json.lineage : undefined,
  };
}

