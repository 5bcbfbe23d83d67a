// Pure parsing of terraform/tofu CLI argument lists (the words after the
// binary name), for the Challenge 2/3 checks: which subcommand ran, whether it
// writes state, whether locking was switched off and how long it waits for a
// lock. Flags follow Go's `flag` package: `-name` and `--name` are the same,
// values come as `-name=value` or (non-boolean flags only) `-name value`,
// and the last occurrence of a flag wins.
//
// One deliberate difference from Go: flags are recognised anywhere after the
// subcommand, not only before the first positional argument, so a misplaced
// `terraform apply tfplan -lock=false` still counts as an unlocked write (terraform
// itself would reject it; for a grader it is better to flag the intent). For the
// same reason a flag error does not stop the reading: terraform refuses the whole
// command line (see `rejected`), but a `-lock=false` written after the bad flag
// still shows what the learner meant.
//
// The environment counts too. terraform's main.go (`mergeEnvArgs`, read at
// hashicorp/terraform 883c7221ee, same in OpenTofu) splits TF_CLI_ARGS and
// TF_CLI_ARGS_<subcommand> into words and inserts them right after the
// subcommand, so `TF_CLI_ARGS_apply=-lock=false terraform apply` is an unlocked
// apply. `effectiveArgs` rebuilds that command line; `parseInvocationArgs(args, env)`
// reads it.

export interface ParsedInvocation {
  /** e.g. 'apply', 'state mv', 'force-unlock'; '' when there is none. */
  subcommand: string;
  /** The command writes state (see STATE_WRITING). */
  stateWriting: boolean;
  /** `-lock` was given a Go "false" value (0, f, F, false, FALSE, False), on the command line or through TF_CLI_ARGS*. */
  lockDisabled: boolean;
  /**
   * From -lock-timeout, in ms; undefined when absent, and also when the value is
   * one terraform rejects (then lockTimeoutInvalid is set).
   */
  lockTimeoutMs: number | undefined;
  /** -lock-timeout had a value terraform rejects ("300": a Go duration needs a unit), so terraform refused to run. */
  lockTimeoutInvalid?: boolean;
  /** force-unlock only: the positional lock ID. */
  lockId?: string;
  /** apply only: the saved plan it applies (its positional argument), as written (relative to the -chdir directory). */
  planFile?: string;
  /** The global -chdir=DIR given before the subcommand. */
  chdir?: string;
  /**
   * Why terraform refuses this command line before doing anything, in terraform's
   * own words (measured with terraform 1.11.4), e.g.
   * `invalid value "300" for flag -lock-timeout: parse error`. Only the flags this
   * module understands (-lock, -lock-timeout) and TF_CLI_ARGS splitting are checked.
   */
  rejected?: string;
  /** The TF_CLI_ARGS variables that added words to the command line, in terraform's order. */
  fromEnvironment?: EnvArgsSource[];
}

/** One TF_CLI_ARGS / TF_CLI_ARGS_<name> variable that added words to a command line. */
export interface EnvArgsSource {
  /** e.g. "TF_CLI_ARGS_apply" */
  name: string;
  /** The variable's value as set. */
  value: string;
  /** The value split into words as terraform splits it. */
  words: string[];
}

/** A command line after terraform merged the environment's arguments into it. */
export interface EffectiveArgs {
  /** What terraform parses. When `error` is set terraform ran nothing; these are then the given args. */
  args: string[];
  sources: EnvArgsSource[];
  /** terraform's message when a variable cannot be split into words (it exits 1 at once). */
  error?: string;
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

/** Go's strconv.ParseBool, the parser behind every boolean flag: anything else is an error. */
const GO_BOOL: Record<string, boolean> = {
  '1': true,
  t: true,
  T: true,
  TRUE: true,
  true: true,
  True: true,
  '0': false,
  f: false,
  F: false,
  FALSE: false,
  false: false,
  False: false,
};

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

/** The environment variable terraform reads extra arguments from (main.go EnvCLI). */
const ENV_CLI = 'TF_CLI_ARGS';

/** Go's time.Duration is an int64 of nanoseconds: ParseDuration rejects anything larger (~2562047h). */
const GO_DURATION_MAX_NS = 2n ** 63n - 1n;

/**
 * Parses a Go time.ParseDuration string ("1m30s", "500ms", "0") into ms;
 * undefined if invalid, including a duration Go's int64 nanoseconds cannot hold
 * ("3000000h": terraform says `invalid value "3000000h" for flag -lock-timeout`).
 */
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
  let wholeNs = 0n; // the integer parts, exactly, for Go's overflow check
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
    wholeNs += BigInt(intPart === '' ? '0' : intPart) * BigInt(unit);
    if (wholeNs > GO_DURATION_MAX_NS + (sign < 0 ? 1n : 0n)) return undefined;
    rest = rest.slice(whole.length);
  }
  const ms = (sign * totalNs) / 1e6;
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * Splits a TF_CLI_ARGS value into words the way terraform does: go-shellwords
 * v1.0.12 `Parser.Parse` with ParseEnv and ParseBacktick off. So: blanks
 * (space, tab, CR, LF) separate words; '...' and "..." quote (a backslash
 * escapes any character outside single quotes); `$VAR` and backticks are kept
 * literally; an unquoted `;`, `&`, `|`, `<` or `>` ends the value (the rest is
 * ignored); an unclosed quote, a trailing backslash, or an unquoted `(` that
 * does not follow `$` is an error (undefined), which makes terraform exit 1.
 */
export function splitShellWords(line: string): string[] | undefined {
  const words: string[] = [];
  let buf = '';
  let escaped = false;
  let doubleQuoted = false;
  let singleQuoted = false;
  let backQuote = false;
  let dollarQuote = false;
  let got = false; // a word (possibly empty, from "") is in buf
  scan: for (const r of line) {
    if (escaped) {
      buf += r;
      escaped = false;
      got = true;
      continue;
    }
    if (r === '\\') {
      if (singleQuoted) buf += r;
      else escaped = true;
      continue;
    }
    if (r === ' ' || r === '\t' || r === '\r' || r === '\n') {
      if (singleQuoted || doubleQuoted || backQuote || dollarQuote) buf += r;
      else if (got) {
        words.push(buf);
        buf = '';
        got = false;
      }
      continue;
    }
    switch (r) {
      case '`':
        if (!singleQuoted && !doubleQuoted && !dollarQuote) backQuote = !backQuote;
        break;
      case ')':
        if (!singleQuoted && !doubleQuoted && !backQuote) dollarQuote = !dollarQuote;
        break;
      case '(':
        if (!singleQuoted && !doubleQuoted && !backQuote) {
          if (dollarQuote || !buf.endsWith('$')) return undefined;
          dollarQuote = true;
          buf += r;
          continue;
        }
        break;
      case '"':
        if (!singleQuoted && !dollarQuote) {
          if (doubleQuoted) got = true;
          doubleQuoted = !doubleQuoted;
          continue;
        }
        break;
      case "'":
        if (!doubleQuoted && !dollarQuote) {
          if (singleQuoted) got = true;
          singleQuoted = !singleQuoted;
          continue;
        }
        break;
      case ';':
      case '&':
      case '|':
      case '<':
      case '>':
        if (!singleQuoted && !doubleQuoted && !backQuote && !dollarQuote) {
          // `2>file`: the digits were a file descriptor, not a word.
          if (r === '>' && /^[0-9]/.test(buf)) got = false;
          break scan;
        }
        break;
    }
    got = true;
    buf += r;
  }
  if (got) words.push(buf);
  if (escaped || singleQuoted || doubleQuoted || backQuote || dollarQuote) return undefined;
  return words;
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

interface SubcommandAt {
  subcommand: string;
  /** Index of the first argument after the subcommand's word(s). */
  next: number;
  chdir?: string;
}

/** Finds the subcommand: the first word after the global options, plus a second word for nested commands. */
function locateSubcommand(args: string[]): SubcommandAt {
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
  return chdir === undefined ? { subcommand, next: i } : { subcommand, next: i, chdir };
}

/** The variable terraform reads for one subcommand: spaces and dashes become underscores (TF_CLI_ARGS_state_push, TF_CLI_ARGS_force_unlock). */
export function envArgsVariable(subcommand: string): string {
  return `${ENV_CLI}_${subcommand.replaceAll('-', '_').replaceAll(' ', '_')}`;
}

/**
 * Merges TF_CLI_ARGS and TF_CLI_ARGS_<subcommand> into a command line exactly as
 * terraform's main.go does: TF_CLI_ARGS first, then the subcommand's variable,
 * each inserted right after the first argument equal to the subcommand's last
 * word (at the front when there is none). So the final order is
 * `<subcommand> <TF_CLI_ARGS_x words> <TF_CLI_ARGS words> <the user's args>`, and
 * since the last flag wins, the user's flags beat TF_CLI_ARGS, which beats
 * TF_CLI_ARGS_x (measured with terraform 1.11.4 and TF_LOG=info). Empty or
 * unset variables add nothing. The subcommand is the one found before merging.
 */
export function applyEnvArgs(args: string[], env: Record<string, string | undefined>): EffectiveArgs {
  const { subcommand } = locateSubcommand(args);
  const search = subcommand.slice(subcommand.lastIndexOf(' ') + 1);
  const sources: EnvArgsSource[] = [];
  let merged = args;
  for (const name of [ENV_CLI, envArgsVariable(subcommand)]) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    const words = splitShellWords(value);
    if (words === undefined) return { args, sources, error: `Error parsing extra CLI args from ${name}: invalid command line string` };
    const at = merged.indexOf(search) + 1; // -1 (not found) inserts at the front, as in Go
    merged = [...merged.slice(0, at), ...words, ...merged.slice(at)];
    sources.push({ name, value, words });
  }
  return { args: merged, sources };
}

/** The arguments terraform acts on once TF_CLI_ARGS / TF_CLI_ARGS_<subcommand> from `env` are merged in. */
export function effectiveArgs(args: string[], env: Record<string, string>): string[] {
  return applyEnvArgs(args, env).args;
}

/**
 * Parses one recorded or written invocation's arguments (after the binary name).
 * With `env` (the command's TF_CLI_ARGS* variables), the environment's words are
 * merged in first, as terraform does.
 */
export function parseInvocationArgs(args: string[], env?: Record<string, string>): ParsedInvocation {
  let words = args;
  let fromEnvironment: EnvArgsSource[] = [];
  let rejected: string | undefined;
  if (env !== undefined) {
    const merged = applyEnvArgs(args, env);
    words = merged.args;
    fromEnvironment = merged.sources;
    rejected = merged.error;
  }
  const { subcommand, next, chdir } = locateSubcommand(words);

  let lockDisabled = false;
  let lockTimeoutMs: number | undefined;
  let lockTimeoutInvalid = false;
  let help = false;
  const positionals: string[] = [];
  const reject = (message: string): void => {
    rejected ??= message; // Go's flag package stops at the first error
  };
  for (let i = next; i < words.length; i++) {
    const word = words[i] ?? '';
    if (word === '--') {
      positionals.push(...words.slice(i + 1));
      break;
    }
    const flag = splitFlag(word);
    if (!flag) {
      positionals.push(word);
      continue;
    }
    let value = flag.value;
    if (value === undefined && VALUE_FLAGS.has(flag.name)) value = words[++i];
    if (flag.name === 'lock') {
      // Boolean flag: bare `-lock` is true; `-lock false` leaves "false" as a positional.
      const parsed = value === undefined ? true : GO_BOOL[value];
      if (parsed === undefined) reject(`invalid boolean value ${JSON.stringify(value)} for -lock: parse error`);
      else lockDisabled = !parsed;
    } else if (flag.name === 'lock-timeout') {
      // Once a value was rejected terraform never runs, so a later valid one does not repair it.
      const ms = value === undefined ? undefined : parseGoDuration(value);
      if (value === undefined) reject('flag needs an argument: -lock-timeout');
      else if (ms === undefined) reject(`invalid value ${JSON.stringify(value)} for flag -lock-timeout: parse error`);
      if (ms === undefined) lockTimeoutInvalid = true;
      lockTimeoutMs = lockTimeoutInvalid ? undefined : ms;
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
  if (lockTimeoutInvalid) parsed.lockTimeoutInvalid = true;
  if (subcommand === 'force-unlock' && positionals[0] !== undefined) parsed.lockId = positionals[0];
  if (subcommand === 'apply' && positionals[0] !== undefined) parsed.planFile = positionals[0];
  if (chdir !== undefined) parsed.chdir = chdir;
  if (rejected !== undefined) parsed.rejected = rejected;
  if (fromEnvironment.length > 0) parsed.fromEnvironment = fromEnvironment;
  return parsed;
}
