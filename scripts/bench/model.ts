// The bench's numbers and targets, as pure functions (issue 13's targets).
import type { GradeResult } from '../../src/grading/types.ts';

export const TARGETS = {
  /** Full grading wall <= this x the slowest single challenge graded alone. */
  parallelRatio: 1.15,
  /** Peak RSS of a full grading, whole process tree. */
  peakRssMb: 250,
  /** grade-many at concurrency 4 on 8 copies. */
  perMinute: 25,
} as const;

export function median(values: number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Status and score of every check: what must agree between gradings. */
export function signature(result: GradeResult): string {
  return result.checks.map((check) => `${check.id}=${check.status}:${check.score}`).join(',');
}

export interface Target {
  name: string;
  value: number;
  limit: number;
  unit: string;
  pass: boolean;
}

export function targets(measured: { fullWallMs: number; slowestSingleMs: number; peakRssMb: number; peakPssMb: number; perMinute: number; agree: boolean }): Target[] {
  const ratio = measured.fullWallMs / measured.slowestSingleMs;
  return [
    { name: 'full grading wall / slowest single challenge', value: ratio, limit: TARGETS.parallelRatio, unit: 'x', pass: ratio <= TARGETS.parallelRatio },
    { name: 'peak RSS of a full grading (tree, summed RSS)', value: measured.peakRssMb, limit: TARGETS.peakRssMb, unit: 'MB', pass: measured.peakRssMb <= TARGETS.peakRssMb },
    { name: 'peak memory of a full grading (tree, summed PSS)', value: measured.peakPssMb, limit: TARGETS.peakRssMb, unit: 'MB', pass: measured.peakPssMb <= TARGETS.peakRssMb },
    { name: 'grade-many c=4 on 8 copies', value: measured.perMinute, limit: TARGETS.perMinute, unit: '/min', pass: measured.perMinute >= TARGETS.perMinute && measured.agree },
  ];
}
