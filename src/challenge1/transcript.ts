// Extracts the "Lock Info:" block from a pasted `terraform plan` / `tofu plan`
// that failed with "Error acquiring the state lock", tolerating CI log
// decoration, colours, the diagnostic box, CRLF/BOM and terminal line wrapping.

export interface TranscriptLockInfo {
  id: string;
  path?: string;
  operation?: string;
  who?: string;
  version?: string;
  created?: string;
  info?: string;
}

export type TranscriptParse =
  | { ok: true; lock: TranscriptLockInfo; lockErrorSeen: boolean }
  | { ok: false; reason: string };

type Key = keyof TranscriptLockInfo;

const KEYS: Record<string, Key> = {
  ID: 'id',
  Path: 'path',
  Operation: 'operation',
  Who: 'who',
  Version: 'version',
  Created: 'created',
  Info: 'info',
};

const EXPECTED = "a 'Lock Info:' block with an 'ID:' line, as printed under 'Error acquiring the state lock'";

// CSI/OSC/other ESC sequences, caret-notation ones, and SGR codes whose ESC was lost in a copy.
// eslint-disable-next-line no-control-regex -- ANSI escapes are made of control characters
const ANSI = /(?:\x1b|\^\[)\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|\[[0-9;]*m/g;
// Jenkins "[ISO]" / "[HH:MM:SS]", GitHub Actions "ISO ", GitLab "ISO 00O " (stream, O/E, ' ' or '+'), GitHub "##[error]".
const CI_PREFIX = [
  /^\[(?:\d{4}-\d{2}-\d{2}T)?\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\] ?/,
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})(?: [0-9a-f]{2}[OE][+ ]?| |$)/,
  /^##\[[a-z]+\]/,
];
// A GitLab line whose header ends in '+' continues the previous line.
const GITLAB_APPEND = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z [0-9a-f]{2}[OE]\+/;
// A bare "HH:MM:SS " prefix is ambiguous (a wrapped Created value may start so): stripped only when most lines carry it.
const CLOCK_PREFIX = /^\d{2}:\d{2}:\d{2}(?:[.,]\d+)? /;
const BOX_EDGE = /^\s*[╷╵]\s*$/;
const BOX_PREFIX = /^\s?│ ?/;
const LOCK_INFO = /^\s*Lock Info:/;
const FIELD_LINE = /^\s*(ID|Path|Operation|Who|Version|Created|Info)\s*:(.*)$/;
const PROSE = /^(?:(?:Terraform|OpenTofu) acquires|Error\b|Releasing state lock|Acquiring state lock|Plan:|No changes)/;
const GO_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)? [+-]\d{4} [A-Z]{2,5}$/;
const CREATED_PIECE = /^[\d:.+\- ]*[A-Z]{0,5}$/;

// Splits the paste into lines and removes everything that is not Terraform's own text.
export function normalizeTranscript(text: string): string[] {
  const raw = text.replace(/\uFEFF/g, '');
  const lines: string[] = [];
  for (const piece of raw.includes('\n') ? raw.split('\n') : raw.split('\r')) {
    const line = piece.replace(/\r/g, '').replace(ANSI, '').replace(/[\t\u00A0]/g, ' ');
    const append = GITLAB_APPEND.exec(line);
    if (append && lines.length > 0) lines[lines.length - 1] += line.slice(append[0].length);
    else lines.push(line);
  }
  const nonBlank = lines.filter((line) => line.trim() !== '');
  const clocked = nonBlank.filter((line) => CLOCK_PREFIX.test(line)).length;
  const stripClock = clocked * 2 > nonBlank.length;
  return lines.map((line) => {
    let out = line;
    if (stripClock) out = out.replace(CLOCK_PREFIX, '');
    for (const prefix of CI_PREFIX) out = out.replace(prefix, '');
    if (BOX_EDGE.test(out)) return '';
    return out.replace(BOX_PREFIX, '').trimEnd();
  });
}

// Whether a non-field line inside the block plausibly continues the current field's wrapped value.
function continues(key: Key, pieces: string[], line: string): boolean {
  const text = line.trim();
  if (PROSE.test(text) || LOCK_INFO.test(text)) return false;
  if (key === 'created') return CREATED_PIECE.test(text);
  if (key === 'info') return pieces.join('') !== '';
  return !/\s/.test(text);
}

// Collects the field lines (and their wrapped continuations) that follow a "Lock Info:" line.
function readBlock(lines: string[]): Map<Key, string[]> {
  const found = new Map<Key, string[]>();
  let current: { key: Key; pieces: string[] } | undefined;
  for (const line of lines) {
    if (line.trim() === '') {
      if (found.size > 0) break;
      continue;
    }
    const field = FIELD_LINE.exec(line);
    const key = field ? KEYS[field[1]] : undefined;
    if (field && key) {
      if (found.has(key)) break;
      current = { key, pieces: [field[2].trim()] };
      found.set(key, current.pieces);
    } else if (current && continues(current.key, current.pieces, line)) {
      current.pieces.push(line.trim());
    } else {
      break;
    }
  }
  return found;
}

// Rejoins a wrapped Created value, preferring whichever joining yields Go's time format.
function joinCreated(parts: string[]): string {
  const [first = '', ...rest] = parts.filter((part) => part !== '');
  if (rest.length > 4) return [first, ...rest].join(' ');
  let candidates = [first];
  for (const part of rest) candidates = candidates.flatMap((head) => [head + part, `${head} ${part}`]);
  return candidates.find((candidate) => GO_TIME.test(candidate)) ?? [first, ...rest].join(' ');
}

// Rejoins a field's pieces: tokens (ID, hostnames, paths) were cut mid-token, prose gets spaces.
function joinPieces(key: Key, parts: string[]): string {
  if (key === 'created') return joinCreated(parts);
  if (key === 'info') return parts.filter((part) => part !== '').join(' ');
  return parts.join('');
}

// Summarises the paste for feedback: its size and its first meaningful line.
function describe(lines: string[]): string {
  const nonBlank = lines.filter((line) => line.trim() !== '');
  const first = nonBlank[0]?.trim() ?? '';
  const shown = first.length > 70 ? `${first.slice(0, 70)}…` : first;
  return `${nonBlank.length} non-blank line(s), starting with "${shown}"`;
}

// Explains why no "Lock Info:" line was found, in terms the learner can act on.
function missingBlockReason(lines: string[], lockErrorSeen: boolean): string {
  if (lines.every((line) => line.trim() === '')) {
    return `The transcript is empty. Expected ${EXPECTED}: paste the full output of the plan that failed.`;
  }
  if (lockErrorSeen) {
    return `Found "Error acquiring the state lock" but no 'Lock Info:' line. Expected ${EXPECTED}: paste the whole error, including the 'Lock Info:' lines below the error message.`;
  }
  if (lines.some((line) => /^\s*(?:Plan: \d+ to add|No changes\.)/.test(line))) {
    return `This plan succeeded ('Plan: …' or 'No changes.'), so it never waited for the lock. Expected ${EXPECTED}: run the plan while another run holds the lock.`;
  }
  return `Found ${describe(lines)}, but neither "Error acquiring the state lock" nor a 'Lock Info:' block. Expected ${EXPECTED}.`;
}

// Parses a pasted plan transcript and returns the last "Lock Info:" block, or why there is none.
export function parseLockTranscript(text: string): TranscriptParse {
  const lines = normalizeTranscript(text);
  const squashed = lines.join('').replace(/\s+/g, '').toLowerCase();
  const lockErrorSeen = squashed.includes('erroracquiringthestatelock');
  const start = lines.findLastIndex((line) => LOCK_INFO.test(line));
  if (start < 0) return { ok: false, reason: missingBlockReason(lines, lockErrorSeen) };

  const sameLine = lines[start].replace(LOCK_INFO, '');
  const found = readBlock([sameLine, ...lines.slice(start + 1)]);
  const where = `the 'Lock Info:' block on line ${start + 1}`;
  const id = found.get('id');
  if (!id) {
    const fields = [...found.keys()].join(', ') || 'no fields';
    return { ok: false, reason: `Found ${where} with ${fields}, but no 'ID:' line in it. Expected ${EXPECTED}: paste the block in full.` };
  }
  const lock: TranscriptLockInfo = { id: joinPieces('id', id) };
  if (lock.id === '') {
    return { ok: false, reason: `Found ${where}, but its 'ID:' line is empty. Expected ${EXPECTED}, with the lock ID after 'ID:'.` };
  }
  for (const [key, pieces] of found) lock[key] = joinPieces(key, pieces);
  return { ok: true, lock, lockErrorSeen };
}

// --- Plausibility (contract, "Transcript mode", amended 2026-11-27) ---
//
// contention.log is self-reported, so before trusting the Lock Info it holds we
// check it looks like what terraform/tofu really print for a refused lock: the
// "Error acquiring the state lock" line, then a Lock Info block whose ID is
// UUID-shaped, whose Path is "<bucket>/<key>" (the lab's own when known; a
// learner who captured it on their own machine has their own bucket, so then
// only the form is checked), whose Created is a timestamp, whose Version is a
// terraform/tofu version (1.11.4, 0.12.31), whose Who is user@host and whose
// Operation is one terraform writes. Created: the contract says RFC 3339,
// which is how the lock item's Info JSON stores it; terraform's error output
// prints Go's time.Time.String() ("2026-11-26 22:01:31.626623807 +0000 UTC"),
// so both are accepted, and the date and time must exist.

export interface PlausibilityOptions {
  /** The lab's state bucket and key, when the transcript must come from this lab's backend. */
  bucket?: string;
  key?: string;
}

const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;
const GO_TIME_STRING = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d+)? [+-](\d{2})(\d{2}) [A-Z]{2,5}$/;
const VERSION = /^\d+\.\d+\.\d+$/;
const WHO = /^\S+@\S+$/;
// OperationTypeApply/Plan/Refresh, or a state command's own name ("state-mv", "init").
const OPERATION = /^(?:OperationType[A-Z][A-Za-z]*|[a-z]+(?:-[a-z]+)*)$/;

// Whether Created is a real timestamp in one of the two forms.
function plausibleCreated(created: string): boolean {
  const parts = RFC3339.exec(created) ?? GO_TIME_STRING.exec(created);
  if (!parts) return false;
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes] = parts.slice(1).map((part) => Number(part ?? '0'));
  // Date.UTC rolls an impossible part over (Feb 30 → Mar 2, 25:00 → next day 01:00), so comparing back
  // finds it; a day that rolled over always changes the month.
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return (
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second &&
    offsetHours <= 23 &&
    offsetMinutes <= 59
  );
}

// The Path the transcript must show, or undefined when only its form is checked.
function expectedPath(options: PlausibilityOptions): { exact?: string; prefix?: string; suffix?: string } {
  if (options.bucket !== undefined && options.key !== undefined) return { exact: `${options.bucket}/${options.key}` };
  if (options.bucket !== undefined) return { prefix: `${options.bucket}/` };
  if (options.key !== undefined) return { suffix: `/${options.key}` };
  return {};
}

// What is wrong with a Path (undefined when fine). The lock object's Path is
// the state's "<bucket>/<key>" in the Terraform and OpenTofu releases measured
// (1.11.x), but a Path naming the object itself ("<bucket>/<key>.tflock") is
// the same lock and is accepted too.
function pathProblem(lockPath: string, options: PlausibilityOptions): string | undefined {
  const path = lockPath.endsWith('.tflock') ? lockPath.slice(0, -'.tflock'.length) : lockPath;
  const want = expectedPath(options);
  if (want.exact !== undefined) return path === want.exact ? undefined : `its Path ${JSON.stringify(path)} is not this lab's state ${JSON.stringify(want.exact)}`;
  if (!/^[^/\s]+\/\S+$/.test(path)) return `its Path ${JSON.stringify(path)} is not of the form <bucket>/<key>`;
  if (want.prefix !== undefined && !path.startsWith(want.prefix)) return `its Path ${JSON.stringify(path)} is not in this lab's bucket (${JSON.stringify(want.prefix)}…)`;
  if (want.suffix !== undefined && !path.endsWith(want.suffix)) return `its Path ${JSON.stringify(path)} does not end with this lab's state key (…${JSON.stringify(want.suffix)})`;
  return undefined;
}

/**
 * Lists why a pasted transcript does not look like terraform's refused-lock
 * output; empty when it does. Each problem is a short clause ("its ID "42" is
 * not a UUID ..."), so callers can join them with "; ".
 */
export function judgeTranscriptPlausibility(text: string, options: PlausibilityOptions = {}): string[] {
  const problems: string[] = [];
  const parsed = parseLockTranscript(text);
  const lockErrorSeen = parsed.ok ? parsed.lockErrorSeen : normalizeTranscript(text).join('').replace(/\s+/g, '').toLowerCase().includes('erroracquiringthestatelock');
  if (!lockErrorSeen) problems.push('it lacks the "Error acquiring the state lock" line');
  if (!parsed.ok) {
    problems.push("it has no 'Lock Info:' block with an ID");
    return problems;
  }
  const { lock } = parsed;
  const field = (name: string, value: string | undefined, ok: (value: string) => boolean, want: string): void => {
    if (value === undefined || value.trim() === '') problems.push(`it has no ${name} line`);
    else if (!ok(value)) problems.push(`its ${name} ${JSON.stringify(value)} is not ${want}`);
  };
  field('ID', lock.id, (id) => UUID_SHAPE.test(id), 'a UUID (like 0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a)');
  if (lock.path === undefined || lock.path === '') problems.push('it has no Path line');
  else {
    const problem = pathProblem(lock.path, options);
    if (problem !== undefined) problems.push(problem);
  }
  field('Created', lock.created, plausibleCreated, 'a timestamp as terraform prints it (e.g. 2026-11-26 22:01:31.626623807 +0000 UTC)');
  field('Version', lock.version, (version) => VERSION.test(version), 'a terraform/tofu version like 1.11.4');
  field('Who', lock.who, (who) => WHO.test(who), 'user@host');
  field('Operation', lock.operation, (operation) => OPERATION.test(operation), 'an operation terraform records (e.g. OperationTypeApply)');
  return problems;
}
