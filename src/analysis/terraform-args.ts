// Pure parsing of terraform/tofu CLI argument lists (the words after the
// binary name), for the Challenge 3 checks: which subcommand ran, whether it
// writes state, whether locking was switched off and how long it waits for a
// lock. Flags follow Go's `flag` package: `-name` and `--name` are the same,
// values come as `-name=value` or (non-boolean flags only) `-name value`,
// and the last occurrence of a flag wins.
//
// One deliberate difference from Go: flags are recognised anywhere after the
// subcommand, not only before the first positional argument, so a misplaced
// `terraform apply tfplan -lock=false` still counts as an unlocked write (terraform
// itself would reject it; for a grader it is better to flag the intent).

export interface ParsedInvocation {
  /** e.g. 'apply', 'state mv', 'force-unlock'; '' when there is none. */
  subcommand: string;
  /** The command writes state (see STATE_WRITING). */
  stateWriting: boolean;
  /** `-lock` was given a Go "false" value (0, f, F, false, FALSE, False). */
  lockDisabled: boolean;
  /** From -lock-timeout, in ms; undefined when absent, -1 when unparsable. */
  lockTimeoutMs: number | undefined;
  /** force-unlock only: the positional lock ID. */
  lockId?: string;
  /** The global -chdir=DIR given before the subcommand. */
  chdir?: string;
}

/** Subcommands whose parent takes a second word (`state mv`, `workspace new`). */
const NESTED = new Set(['state', 'workspace', 'providers']);

/** State-writing subcommands; force-unlock is deliberately not one of them. */
const STATE_WRITING = new Set([
  'apply',
  'destroy',
  'import',
  'refresh',
  'taint',
  'untaint',
  'state mv',
  'state rm',
  'state push',
  'state replace-provider',
]);

/** Flags that take a value, so `-flag VALUE` consumes the next word. */
const VALUE_FLAGS = new Set([
  'backend-config',
  'backup',
  'chdir',
  'config',
  'exclude',
  'exclude-file',
  'filter',
  'from-module',
  'generate-config-out',
  'lock-timeout',
  'lockfile',
  'out',
  'parallelism',
  'plugin-dir',
  'provider',
  'replace',
  'state',
  'state-out',
  'target',
  'target-file',
  'test-directory',
  'var',
  'var-file',
]);

const GO_FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

const DURATION_UNITS_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3, // U+00B5 micro sign
  'μs': 1e3, // U+03BC Greek mu
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Parses a Go time.ParseDuration string ("1m30s", "500ms", "0") into ms; undefined if invalid. */
export function parseGoDuration(text: string): number | undefined {
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest.startsWith('-')) sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let totalNs = 0;
  const part = /^(\d*)(?:\.(\d*))?([^\d.]+)/;
  while (rest !== '') {
    const match = part.exec(rest);
    if (!match) return undefined;
    const [whole, intPart = '', fracPart, unitText = ''] = match;
    if (intPart === '' && (fracPart === undefined || fracPart === '')) return undefined;
    const unit = DURATION_UNITS_NS[unitText];
    if (unit === undefined) return undefined;
    const value = Number(`${intPart === '' ? '0' : intPart}.${fracPart ?? ''}0`);
    totalNs += value * unit;
    rest = rest.slice(whole.length);
  }
  const ms = (sign * totalNs) / 1e6;
  return Number.isFinite(ms) ? ms : undefined;
}

interface Flag {
  name: string;
  value: string | undefined;
}

/** Splits `-name=value` / `--name` into name and inline value; undefined for non-flags. */
function splitFlag(word: string): Flag | undefined {
  if (!word.startsWith('-') || word === '-' || word === '--') return undefined;
  const body = word.startsWith('--') ? word.slice(2) : word.slice(1);
  const eq = body.indexOf('=');
  return eq === -1 ? { name: body, value: undefined } : { name: body.slice(0, eq), value: body.slice(eq + 1) };
}

/** Parses one recorded or written invocation's arguments (after the binary name). */
export function parseInvocationArgs(args: string[]): ParsedInvocation {
  let i = 0;
  let chdir: string | undefined;
  // Global options: everything flag-like before the first positional word.
  for (; i < args.length; i++) {
    const flag = splitFlag(args[i] ?? '');
    if (!flag) break;
    if (flag.name === 'chdir') {
      // terraform insists on -chdir=DIR; `-chdir DIR` is accepted here leniently.
      if (flag.value !== undefined) chdir = flag.value;
      else if (i + 1 < args.length) chdir = args[++i];
    }
  }
  if (args[i] === '--') i++;

  let subcommand = args[i] ?? '';
  if (subcommand !== '') i++;
  const next = args[i];
  if (NESTED.has(subcommand) && next !== undefined && !next.startsWith('-')) {
    subcommand = `${subcommand} ${next}`;
    i++;
  }

  let lockDisabled = false;
  let lockTimeoutMs: number | undefined;
  let help = false;
  const positionals: string[] = [];
  for (; i < args.length; i++) {
    const word = args[i] ?? '';
    if (word === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    const flag = splitFlag(word);
    if (!flag) {
      positionals.push(word);
      continue;
    }
    let value = flag.value;
    if (value === undefined && VALUE_FLAGS.has(flag.name)) value = args[++i];
    if (flag.name === 'lock') {
      // Boolean flag: bare `-lock` is true; an invalid value makes terraform refuse to run.
      lockDisabled = value !== undefined && GO_FALSE.has(value);
    } else if (flag.name === 'lock-timeout') {
      lockTimeoutMs = value === undefined ? -1 : (parseGoDuration(value) ?? -1);
    } else if (flag.name === 'help' || flag.name === 'h') {
      help = true;
    }
  }

  const parsed: ParsedInvocation = {
    subcommand,
    stateWriting: STATE_WRITING.has(subcommand) && !help,
    lockDisabled,
    lockTimeoutMs,
  };
  if (subcommand === 'force-unlock' && positionals[0] !== undefined) parsed.lockId = positionals[0];
  if (chdir !== undefined) parsed.chdir = chdir;
  return parsed;
}
