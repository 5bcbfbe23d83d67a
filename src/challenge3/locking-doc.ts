// The transparent heuristic for challenge3/LOCKING.md: three groups of terms,
// each of which must be matched at least once. The feedback lists what was
// found and what was missing, and says it is a heuristic.

interface TermGroup {
  name: string;
  want: string;
  terms: Array<{ label: string; pattern: RegExp }>;
}

export const LOCKING_DOC_GROUPS: readonly TermGroup[] = [
  {
    name: 'names the flag',
    want: 'the flag itself, written as -lock=false',
    terms: [{ label: '-lock=false', pattern: /-lock\s*=\s*false/i }],
  },
  {
    name: 'read-only use',
    want: 'that it is only for read-only commands (e.g. "read-only", "only for plan/validate/show")',
    terms: [
      { label: 'read-only', pattern: /read[\s-]?only/i },
      { label: 'only/just ... plan|validate|show|output', pattern: /\b(only|just|solely)\b[^.\n]{0,60}\b(plan|validate|show|output|fmt)\b/i },
      { label: 'never ... apply|write|destroy', pattern: /\b(never|not|don't|do not)\b[^.\n]{0,60}\b(apply|applies|write|writes|writing|destroy)\b/i },
      { label: 'does not write/modify state', pattern: /\b(does not|doesn't|do not|don't|never)\s+(write|modify|change|touch)\b/i },
    ],
  },
  {
    name: 'what goes wrong for writes',
    want: 'what goes wrong when a write runs unlocked (e.g. concurrent applies overwrite or corrupt the state)',
    terms: [
      { label: 'corrupt', pattern: /corrupt/i },
      { label: 'overwrite/clobber', pattern: /overwrit|clobber/i },
      { label: 'race', pattern: /\brace\b|race condition/i },
      { label: 'concurrent/simultaneous/parallel', pattern: /concurren|simultaneous|at the same time|in parallel|parallel/i },
      { label: 'lost/lose updates', pattern: /\blos[te]\b|\blosing\b/i },
      { label: 'conflict', pattern: /conflict/i },
      { label: 'inconsistent/drift', pattern: /inconsisten|\bdrift/i },
    ],
  },
];

export interface LockingDocJudgement {
  ok: boolean;
  found: string[];
  missing: string[];
}

export function judgeLockingDoc(text: string): LockingDocJudgement {
  const found: string[] = [];
  const missing: string[] = [];
  for (const group of LOCKING_DOC_GROUPS) {
    const hits = group.terms.filter((term) => term.pattern.test(text)).map((term) => term.label);
    if (hits.length > 0) found.push(`${group.name}: ${hits.join(', ')}`);
    else missing.push(group.want);
  }
  return { ok: missing.length === 0, found, missing };
}
