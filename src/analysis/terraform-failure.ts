// Why a terraform/tofu run failed, read from what it printed, so feedback can
// say one true sentence instead of "exit 1". Only stable fragments of
// terraform's own messages are matched (never a bare word like "stale"); every
// fragment here was seen in real output, kept in fixtures/terraform-output/
// (terraform 1.11.4; OpenTofu prints the same texts, "OpenTofu" for
// "Terraform"). The text is ANSI-stripped, the diagnostic box (╷ │ ╵) is
// removed and blanks are squashed, so a message wrapped at 78 columns still matches.
//
// An output can hold several commands (a whole pipeline's log). The fragment
// that comes last decides: that is the failure that ended the run.

import { stripAnsi } from '../util/ansi.ts';

export type TerraformFailureKind = 'rejected-flag' | 'stale-plan' | 'lock-timeout' | 'lock-refused' | 'backend-auth' | 'other';

export interface TerraformFailure {
  kind: TerraformFailureKind;
  /** The deciding part of terraform's own message, e.g. `invalid value "300" for flag -lock-timeout: parse error`. */
  detail: string;
  /** For lock-timeout / lock-refused: the lock that was in the way, from the "Lock Info:" block. */
  holder?: { id: string; operation?: string; who?: string };
}

/** What the caller knows about the failed command (from its recorded arguments). */
export interface FailureContext {
  /** The command's -lock-timeout in ms, 0 when it had none. Decides lock-timeout vs lock-refused when given. */
  lockTimeoutMs?: number;
}

interface Match {
  kind: TerraformFailureKind;
  at: number;
  detail: string;
  /** A secondary message of its kind (shown only when no primary one is near). */
  secondary?: boolean;
  /** For the lock error: the text of its block (up to the next lock error). */
  lockError?: boolean;
}

/** Fragments per kind. Each regex runs on the squashed text (one line, single blanks). */
const FRAGMENTS: Array<{ kind: TerraformFailureKind; pattern: RegExp; secondary?: boolean; lockError?: boolean }> = [
  // Go's flag package (newer Go says "parse error"; older Go quoted the parser's error instead).
  { kind: 'rejected-flag', pattern: /invalid value "[^"]*" for flag -[\w-]+: (?:parse error|time: [^"]*"[^"]*")/g },
  { kind: 'rejected-flag', pattern: /invalid boolean value "[^"]*" for -[\w-]+: (?:parse error|strconv\.ParseBool: parsing "[^"]*": invalid syntax)/g },
  { kind: 'rejected-flag', pattern: /flag provided but not defined: -[\w-]+/g },
  { kind: 'rejected-flag', pattern: /flag needs an argument: -[\w-]+/g },
  { kind: 'rejected-flag', pattern: /Error parsing extra CLI args from TF_CLI_ARGS\w*: invalid command line string/g },
  { kind: 'rejected-flag', pattern: /Too many command line arguments/g, secondary: true },
  // "Saved plan is stale" (summary) and its detail line.
  { kind: 'stale-plan', pattern: /Saved plan is stale/g },
  { kind: 'stale-plan', pattern: /The given plan file can no longer be applied because the state was changed by another operation/g, secondary: true },
  // The lock error; whether someone held the lock is decided from its Lock Info block.
  { kind: 'lock-refused', pattern: /Error acquiring the state lock/g, lockError: true },
  { kind: 'other', pattern: /Error releasing the state lock/g },
  // Credentials: the S3 backend's own message, and the AWS error codes of a refused identity.
  { kind: 'backend-auth', pattern: /No valid credential sources found/g },
  {
    kind: 'backend-auth',
    pattern: /\b(?:InvalidAccessKeyId|SignatureDoesNotMatch|InvalidClientTokenId|UnrecognizedClientException|ExpiredToken(?:Exception)?|AccessDenied(?:Exception)?)\b(?::[^.]*\.)?/g,
  },
];

/** Output as one line: no colours, no diagnostic box, blanks squashed. */
function squash(output: string): string {
  return stripAnsi(output)
    .split(/\r?\n|\r/)
    .map((line) => line.replace(/^\s*[╷╵]\s*$/, '').replace(/^\s*│ ?/, ''))
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The lock holder named in a lock error's text, if it has a "Lock Info:" block with an ID. */
function holderIn(block: string): TerraformFailure['holder'] {
  const info = /Lock Info: ID: (\S+)(.*)$/.exec(block);
  if (!info) return undefined;
  const rest = info[2] ?? '';
  const holder: NonNullable<TerraformFailure['holder']> = { id: info[1] ?? '' };
  const operation = /Operation: (\S+)/.exec(rest)?.[1];
  const who = /Who: (\S+)/.exec(rest)?.[1];
  if (operation !== undefined) holder.operation = operation;
  if (who !== undefined) holder.who = who;
  return holder;
}

/**
 * "Error message: ..." of a diagnostic, up to terraform's explanation paragraph:
 * its AWS error ("ResourceNotFoundException: Requested resource not found") when
 * it has one, else the message, shortened.
 */
function errorMessageIn(block: string): string | undefined {
  const message = /Error message: (.*?)(?: (?:Terraform|OpenTofu) acquires a (?:state )?lock|$)/.exec(block)?.[1]?.trim();
  if (message === undefined || message === '') return undefined;
  const aws = /\b([A-Z][A-Za-z]+Exception): (.+?)(?= Unable to | Lock Info:|,|$)/.exec(message);
  if (aws) return `${aws[1]}: ${aws[2]}`;
  return message.length > 240 ? `${message.slice(0, 240)}…` : message;
}

/** Whether "Acquiring state lock. This may take a few moments..." belongs to the failed command (it waited). */
function waitedBefore(text: string, at: number): boolean {
  const before = text.slice(0, at);
  const acquiring = before.lastIndexOf('Acquiring state lock. This may take a few moments...');
  if (acquiring < 0) return false;
  // Nothing that ends a command may lie between the message and the error.
  const gap = before.slice(acquiring);
  return !/No changes\.|Plan: \d|Apply complete!|Destroy complete!|Outputs:|Releasing state lock|Error acquiring the state lock/.test(gap.slice(1));
}

/**
 * Classifies a failed terraform/tofu run (or a script's whole output) from its
 * text. Lock errors: `lock-timeout` when the command waited (context.lockTimeoutMs
 * > 0, or, without context, terraform printed "Acquiring state lock. This may take
 * a few moments..." right before the error, which it does once taking the lock
 * took over 400 ms); `lock-refused` when it gave up at once. A lock error without
 * a holder (e.g. the lock table is missing) is `other`.
 */
export function classifyTerraformFailure(output: string, exitCode: number | null, context: FailureContext = {}): TerraformFailure {
  if (exitCode === 0) return { kind: 'other', detail: 'exit 0: terraform did not fail' };
  const text = squash(output);
  const matches: Match[] = [];
  for (const fragment of FRAGMENTS) {
    for (const found of text.matchAll(fragment.pattern)) {
      matches.push({ kind: fragment.kind, at: found.index, detail: found[0], secondary: fragment.secondary, lockError: fragment.lockError });
    }
  }
  matches.sort((a, b) => a.at - b.at);
  const last = matches.at(-1);
  if (last === undefined) {
    const summary = [...text.matchAll(/\bError: (.*?)(?= Error: | Warning: |$)/g)].at(-1)?.[1];
    const detail = summary !== undefined ? `Error: ${summary.length > 240 ? `${summary.slice(0, 240)}…` : summary}` : exitCode === null ? 'ended by a signal' : `exit ${exitCode}`;
    return { kind: 'other', detail };
  }

  if (last.lockError) {
    const block = text.slice(last.at);
    const holder = holderIn(block);
    if (holder === undefined) {
      const message = errorMessageIn(block);
      return { kind: 'other', detail: `Error acquiring the state lock${message ? `: ${message}` : ''} (no other run held it)` };
    }
    const waited = context.lockTimeoutMs !== undefined ? context.lockTimeoutMs > 0 : waitedBefore(text, last.at);
    const by = [holder.operation, holder.who && `by ${holder.who}`].filter(Boolean).join(' ');
    return { kind: waited ? 'lock-timeout' : 'lock-refused', detail: `the lock was held${by ? ` for ${by}` : ''} (ID ${holder.id})`, holder };
  }
  if (last.kind === 'other') {
    const message = errorMessageIn(text.slice(last.at));
    return { kind: 'other', detail: `${last.detail}${message ? `: ${message}` : ''}` };
  }
  // The run of same-kind messages ending at `last` is one diagnostic group: its first primary message says most.
  let first = matches.length - 1;
  while (first > 0 && matches[first - 1]?.kind === last.kind) first--;
  const group = matches.slice(first);
  const primary = group.find((match) => !match.secondary) ?? last;
  return { kind: last.kind, detail: primary.detail };
}

/** As learners write it: "500 ms", "1.5 s", "60 s", "300 s"; whole minutes from 10 min ("15 min"). */
function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const seconds = ms / 1000;
  return seconds >= 600 && seconds % 60 === 0 ? `${seconds / 60} min` : `${Number(seconds.toFixed(3))} s`;
}

/** A hint for the common command-line mistakes, or ''. */
function flagHint(detail: string): string {
  const noUnit = /invalid value "(\d+(?:\.\d+)?)" for flag -lock-timeout/.exec(detail);
  if (noUnit) return ` (a Go duration needs a unit, e.g. ${noUnit[1]}s)`;
  if (/for -lock:/.test(detail)) return ' (-lock takes true or false)';
  if (/^flag provided but not defined/.test(detail)) return ' (check the spelling of the flag)';
  const env = /from (TF_CLI_ARGS\w*)/.exec(detail);
  if (env) return ` (check the quotes in ${env[1]})`;
  return '';
}

/**
 * One true sentence for learner feedback, written to follow "your apply failed: "
 * (lower-case, no final period). With context.lockTimeoutMs the lock sentences
 * name the timeout.
 */
export function describeFailure(failure: TerraformFailure, context: FailureContext = {}): string {
  switch (failure.kind) {
    case 'rejected-flag':
      return `terraform rejected the command line: ${failure.detail}${flagHint(failure.detail)}`;
    case 'stale-plan':
      return 'the saved plan was stale: another run changed the state after it was made; make a new plan once you hold the lock (or apply without a saved plan)';
    case 'lock-timeout':
      return context.lockTimeoutMs !== undefined && context.lockTimeoutMs > 0
        ? `its -lock-timeout of ${formatDuration(context.lockTimeoutMs)} ran out while another run held the lock`
        : 'its -lock-timeout ran out while another run held the lock';
    case 'lock-refused':
      return context.lockTimeoutMs === 0
        ? 'it gave up at once because another run held the lock and it had no -lock-timeout (e.g. -lock-timeout=60s waits)'
        : 'it gave up at once because another run held the lock';
    case 'backend-auth':
      return `terraform could not authenticate to the state backend: ${failure.detail}`;
    case 'other':
      return `terraform failed: ${failure.detail}`;
  }
}
