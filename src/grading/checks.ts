import { readFile } from 'node:fs/promises';
import { LockgraderError } from '../errors.ts';
import type { ChallengeNumber } from './types.ts';

/** One check of the contract's table (../shared/spec/lab-contract.md, "The checks"). */
export interface CheckDefinition {
  id: string;
  challenge: ChallengeNumber;
  points: number;
  /** A replay check: the harness checking the lab itself (0 points). */
  replay: boolean;
  title: string;
}

// The contract's table, in its order. Ids are stable: platforms key on them.
export const CHECKS: readonly CheckDefinition[] = [
  { id: 'c1.replay.contention', challenge: 1, points: 0, replay: true, title: 'a concurrent plan failed on the lock while an apply held it' },
  { id: 'c1.lock-id', challenge: 1, points: 10, replay: false, title: "the reported lock_id is the holder's Lock ID" },
  { id: 'c1.holder', challenge: 1, points: 5, replay: false, title: "the reported who is the holder's Who" },
  { id: 'c1.operation', challenge: 1, points: 5, replay: false, title: "the reported operation is the holder's Operation" },
  { id: 'c2.replay.orphaned-lock', challenge: 2, points: 0, replay: true, title: 'an apply was killed with SIGKILL mid-apply and left its lock' },
  { id: 'c2.script-succeeds', challenge: 2, points: 5, replay: false, title: 'recover.sh exited 0 within its time limit' },
  { id: 'c2.lock-released', challenge: 2, points: 10, replay: false, title: 'no lock item remains for the state' },
  { id: 'c2.force-unlock-used', challenge: 2, points: 10, replay: false, title: "force-unlock was run with the orphaned lock's ID" },
  { id: 'c2.no-unlocked-writes', challenge: 2, points: 5, replay: false, title: 'no state-writing command ran with -lock=false' },
  { id: 'c2.state-intact', challenge: 2, points: 5, replay: false, title: 'the state is readable, same lineage, serial not lower, digest matches' },
  { id: 'c2.zero-drift', challenge: 2, points: 10, replay: false, title: 'plan -detailed-exitcode exits 0 afterwards' },
  { id: 'c3.lock-timeout-used', challenge: 3, points: 5, replay: false, title: 'every plan and apply carried -lock-timeout of at least 10 s' },
  { id: 'c3.waits-through-contention', challenge: 3, points: 10, replay: false, title: 'the pipeline waited out a held lock and succeeded' },
  { id: 'c3.serialized-runs', challenge: 3, points: 5, replay: false, title: 'two concurrent pipeline runs serialized cleanly' },
  { id: 'c3.no-unlocked-writes', challenge: 3, points: 5, replay: false, title: 'no state-writing command ran (or is written) with -lock=false' },
  { id: 'c3.no-force-unlock', challenge: 3, points: 5, replay: false, title: 'the pipeline never runs force-unlock' },
  { id: 'c3.lock-false-documented', challenge: 3, points: 5, replay: false, title: 'LOCKING.md explains -lock=false is for read-only commands' },
];

export const ALL_CHALLENGES: readonly ChallengeNumber[] = [1, 2, 3];

export function checkDefinition(id: string): CheckDefinition {
  const found = CHECKS.find((check) => check.id === id);
  if (!found) throw new LockgraderError('INTERNAL', `unknown check id ${id}`, { id });
  return found;
}

/** Points per check id; a rubric file overrides some of them. */
export type Rubric = Record<string, number>;

export function defaultRubric(): Rubric {
  return Object.fromEntries(CHECKS.map((check) => [check.id, check.points]));
}

// Reads a rubric file: JSON {"points": {"c1.lock-id": 20, ...}} or a flat
// {"c1.lock-id": 20}. Unknown ids and negative points are usage errors.
export async function loadRubric(file: string | undefined): Promise<Rubric> {
  const rubric = defaultRubric();
  if (!file) return rubric;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new LockgraderError('USAGE', `cannot read rubric ${file}: ${(error as Error).message}`, { file });
  }
  const points = (parsed as { points?: unknown }).points ?? parsed;
  if (typeof points !== 'object' || points === null) throw new LockgraderError('USAGE', `rubric ${file} must be a JSON object of check id to points`, { file });
  for (const [id, value] of Object.entries(points)) {
    if (!(id in rubric)) throw new LockgraderError('USAGE', `rubric ${file} names unknown check "${id}"`, { file, id });
    if (typeof value !== 'number' || value < 0 || !Number.isFinite(value)) {
      throw new LockgraderError('USAGE', `rubric ${file}: points for "${id}" must be a number >= 0`, { file, id });
    }
    rubric[id] = value;
  }
  return rubric;
}

export function parseChallenges(value: string | undefined): ChallengeNumber[] {
  if (value === undefined || value.trim() === '') return [...ALL_CHALLENGES];
  const parts = value.split(',').map((part) => part.trim());
  const numbers = parts.map((part) => Number(part));
  if (numbers.some((n) => !ALL_CHALLENGES.includes(n as ChallengeNumber))) {
    throw new LockgraderError('USAGE', `--challenges takes a comma-separated list of 1, 2, 3 (got "${value}")`, { value });
  }
  return [...new Set(numbers as ChallengeNumber[])].sort();
}
