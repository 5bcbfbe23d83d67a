// Printing the bench's tables and target lines.
import type { Target } from './model.ts';

export const seconds = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : 'n/a');

export function printTargets(list: Target[]): void {
  console.log('\ntargets');
  for (const target of list) {
    const comparison = target.unit === '/min' ? '>=' : '<=';
    console.log(`  ${target.pass ? 'PASS' : 'MISS'}  ${target.name.padEnd(46)} ${target.value.toFixed(2).padStart(8)} ${target.unit}  (${comparison} ${target.limit} ${target.unit})`);
  }
}

export function printPeak(byName: Map<string, { kb: number; count: number }>): string {
  return [...byName.entries()]
    .sort((a, b) => b[1].kb - a[1].kb)
    .slice(0, 6)
    .map(([name, { kb, count }]) => `${name}×${count} ${(kb / 1024).toFixed(0)} MB`)
    .join(', ');
}
