/** What a learner reports about the lock holder (identify.sh stdout or answers.json). */
export interface LockAnswer {
  lock_id?: string;
  who?: string;
  operation?: string;
}

export type AnswerParse = { ok: true; answer: LockAnswer } | { ok: false; problem: string };

const FIELDS = ['lock_id', 'who', 'operation'] as const;

// Reads one JSON object {lock_id, who, operation}. Tolerates log lines before
// it on stdout by falling back to the last line that parses as an object.
export function parseLockAnswer(text: string, source: string): AnswerParse {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (trimmed === '') return { ok: false, problem: `${source} is empty; expected one JSON object like {"lock_id": "...", "who": "...", "operation": "..."}` };
  const candidates = [trimmed, ...trimmed.split(/\r?\n/).reverse()];
  for (const candidate of candidates) {
    let value: unknown;
    try {
      value = JSON.parse(candidate);
    } catch {
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) continue;
    const answer: LockAnswer = {};
    for (const field of FIELDS) {
      const raw = (value as Record<string, unknown>)[field];
      if (typeof raw === 'string') answer[field] = raw.trim();
      else if (raw !== undefined && raw !== null) answer[field] = String(raw).trim();
    }
    return { ok: true, answer };
  }
  const preview = trimmed.length > 200 ? `${trimmed.slice(0, 200)}…` : trimmed;
  return {
    ok: false,
    problem: `${source} is not a JSON object; expected {"lock_id": "...", "who": "...", "operation": "..."} (print other text to stderr). It began: ${JSON.stringify(preview)}`,
  };
}
