// Static scan of a pipeline's text (a bash script, or the concatenated `run:`
// steps of a workflow) for the terraform/tofu commands it would run.
//
// Heuristics (a small shell lexer, not a shell):
// - Quotes ('...', "...", $'...'), backslash escapes and backslash-newline
//   continuations are honoured; `#` starts a comment at the start of a word.
// - Commands are split at newlines, `;`, `;;`, `&&`, `||`, `|`, `|&`, `&`,
//   `(`, `)`, backticks and an unquoted `$(`. Substitutions inside double
//   quotes ("$(terraform output ...)") are not scanned.
// - A command is a terraform/tofu one when its command word (after leading
//   VAR=value assignments, `if then elif else while until do ! { time`, and the
//   wrappers `sudo`, `env`, `exec`, `command`, `nohup`, `nice`, `timeout`) is
//   `terraform`/`tofu`, a path ending in one of them, `${VAR:-terraform}`, or
//   `$VAR`/`${VAR}` where the script assigns VAR a value that is one of those.
//   `echo`/`printf` lines are therefore never commands: terraform is an argument there.
// - Heredoc bodies (<<EOF ... EOF) are skipped, even when fed to a shell.
// - Shell functions and aliases wrapping terraform are not followed (their
//   body's `terraform "$@"` is reported with subcommand "$@"), variables set
//   from a substitution (TF=$(command -v tofu)) are not recognised, and
//   variables holding several words (TF="terraform -chdir=x") are not split.
// - Nothing is evaluated: a command under `if false` or after `exit` still counts.
// - TF_CLI_ARGS / TF_CLI_ARGS_<command> (terraform adds their words to its
//   command line) are followed in source order: `export X=...`, `declare -x`,
//   an assignment to a variable already exported (or after `set -a`), `export X`
//   after `X=...`, `unset X`, `export -n X`, and assignments in front of the command
//   (`X=... terraform apply`, `env X=... terraform apply`) for that command only. A
//   plain `X=...` that is never exported does not reach terraform and is not
//   counted. Control flow and subshell scopes are ignored (an export inside
//   `( ... )` or an `if` counts for every later line).

import { type ParsedInvocation, parseInvocationArgs } from './terraform-args.ts';

export interface ScannedCommand {
  /** 1-based line where the command word is. */
  line: number;
  /** The source line(s) holding the command, continuations joined, trimmed. */
  text: string;
  /** The command word as written (after quote removal), e.g. "terraform", "$TF". */
  tool: string;
  /** Words after the command word, quotes removed, redirections dropped. */
  args: string[];
  /** The TF_CLI_ARGS* variables in force for this command (see the header), when any. */
  env?: Record<string, string>;
  /** `args` read as terraform reads them, with `env` merged in. */
  parsed: ParsedInvocation;
}

interface Token {
  kind: 'word' | 'op';
  value: string;
  line: number;
}

const SEPARATORS = new Set(['\n', ';', ';;', '&&', '||', '|', '|&', '&', '(', ')', '$(', '`']);
const OPERATORS = ['&&', '||', ';;', '|&', ';', '|', '&', '(', ')'];
const REDIRECTS = ['<<<', '<<-', '<<', '&>>', '&>', '>>', '>&', '<&', '<>', '>|', '>', '<'];
const RESERVED_PREFIXES = new Set(['if', 'then', 'elif', 'else', 'while', 'until', 'do', '!', '{', 'time']);
const TOOL_PATH = /(?:^|\/)(?:terraform|tofu)$/;
const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)(?:\[[^\]]*\])?\+?=(.*)$/s;

/** Index just past the closing quote of a quoted section starting at `start` (the opening quote). */
function quotedEnd(text: string, start: number, quote: string, escapes: boolean): number {
  let i = start + 1;
  while (i < text.length && text[i] !== quote) i += escapes && text[i] === '\\' ? 2 : 1;
  return Math.min(i + 1, text.length);
}

/** Removes quotes and escapes from a raw word (the lexer keeps words raw until here). */
function unquote(raw: string): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '\\') {
      out += raw[++i] ?? '';
    } else if (c === "'" || (c === '$' && raw[i + 1] === "'")) {
      const open = c === '$' ? i + 1 : i;
      const end = quotedEnd(raw, open, "'", c === '$');
      out += raw.slice(open + 1, end - 1);
      i = end - 1;
    } else if (c === '"') {
      const end = quotedEnd(raw, i, '"', true);
      out += raw.slice(i + 1, end - 1).replace(/\\([\\"$`])/g, '$1');
      i = end - 1;
    } else {
      out += c;
    }
  }
  return out;
}

/** Splits shell text into words and operators, skipping comments and heredoc bodies. */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const heredocs: { delimiter: string; stripTabs: boolean }[] = [];
  let expectHeredoc: boolean | undefined; // stripTabs of a `<<`/`<<-` awaiting its delimiter word
  let word = '';
  let wordLine = 1;
  let line = 1;
  let i = 0;

  const endWord = (): void => {
    if (word === '') return;
    if (expectHeredoc !== undefined) {
      heredocs.push({ delimiter: unquote(word), stripTabs: expectHeredoc });
      expectHeredoc = undefined;
    }
    tokens.push({ kind: 'word', value: word, line: wordLine });
    word = '';
  };
  const append = (s: string): void => {
    if (word === '') wordLine = line;
    word += s;
    line += s.split('\n').length - 1;
  };
  const skipHeredocBodies = (): void => {
    for (const { delimiter, stripTabs } of heredocs.splice(0)) {
      while (i < text.length) {
        const nl = text.indexOf('\n', i);
        const end = nl === -1 ? text.length : nl;
        const body = text.slice(i, end);
        i = end + 1;
        line++;
        if ((stripTabs ? body.replace(/^\t+/, '') : body).trim() === delimiter) break;
      }
    }
  };

  while (i < text.length) {
    const c = text[i] ?? '';
    const rest = text.slice(i, i + 3);
    if (c === '\\' && text[i + 1] === '\n') {
      i += 2;
      line++;
    } else if (c === '\\') {
      append(text.slice(i, i + 2));
      i += 2;
    } else if (c === '\n') {
      endWord();
      tokens.push({ kind: 'op', value: '\n', line });
      line++;
      i++;
      skipHeredocBodies();
    } else if (c === ' ' || c === '\t' || c === '\r') {
      endWord();
      i++;
    } else if (c === '#' && word === '') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === "'" || c === '"' || rest.startsWith("$'")) {
      const open = c === '$' ? i + 1 : i;
      const end = quotedEnd(text, open, text[open] ?? '', text[open] === '"' || c === '$');
      append(text.slice(i, end));
      i = end;
    } else if (rest.startsWith('${')) {
      const close = text.indexOf('}', i);
      const end = close === -1 ? text.length : close + 1;
      append(text.slice(i, end));
      i = end;
    } else if (rest.startsWith('$(') || c === '`') {
      endWord();
      const op = c === '`' ? '`' : '$(';
      tokens.push({ kind: 'op', value: op, line });
      i += op.length;
    } else if ((c === '<' || c === '>' || rest.startsWith('&>')) && !rest.startsWith('<(') && !rest.startsWith('>(')) {
      if (/^\d+$/.test(word)) word = ''; // a file-descriptor number: 2>&1
      endWord();
      const op = REDIRECTS.find((r) => rest.startsWith(r)) ?? c;
      tokens.push({ kind: 'op', value: op, line });
      if (op === '<<' || op === '<<-') expectHeredoc = op === '<<-';
      i += op.length;
    } else {
      const op = OPERATORS.find((o) => rest.startsWith(o));
      if (op !== undefined) {
        endWord();
        tokens.push({ kind: 'op', value: op, line });
        i += op.length;
      } else {
        append(c);
        i++;
      }
    }
  }
  endWord();
  return tokens;
}

interface SimpleCommand {
  words: { value: string; line: number }[];
}

/** Groups tokens into simple commands, dropping redirection operators and their targets. */
function simpleCommands(tokens: Token[]): SimpleCommand[] {
  const commands: SimpleCommand[] = [];
  let current: SimpleCommand = { words: [] };
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token === undefined) continue;
    if (token.kind === 'word') {
      current.words.push({ value: unquote(token.value), line: token.line });
    } else if (SEPARATORS.has(token.value)) {
      if (current.words.length > 0) commands.push(current);
      current = { words: [] };
    } else if (tokens[i + 1]?.kind === 'word') {
      i++; // a redirection's target
    }
  }
  if (current.words.length > 0) commands.push(current);
  return commands;
}

/** Number of leading words of a wrapper command (`sudo -E`, `timeout 5m`) before the wrapped command. */
function wrapperLength(words: string[], at: number, onAssignment: (name: string, value: string) => void): number {
  const name = words[at];
  let i = at + 1;
  const skipOptions = (withValue: Set<string>): void => {
    while (i < words.length && (words[i] ?? '').startsWith('-')) {
      const option = words[i] ?? '';
      i++;
      if (option === '--') break;
      if (withValue.has(option)) i++;
    }
  };
  switch (name) {
    case 'sudo':
      skipOptions(new Set(['-u', '-g', '-C', '-D', '-h', '-p', '-U', '-r', '-t', '-T']));
      break;
    case 'env':
      skipOptions(new Set(['-u', '-C', '-S', '--unset', '--chdir']));
      for (let assignment = ASSIGNMENT.exec(words[i] ?? ''); assignment; assignment = ASSIGNMENT.exec(words[i] ?? '')) {
        onAssignment(assignment[1] ?? '', assignment[2] ?? '');
        i++;
      }
      break;
    case 'exec':
      skipOptions(new Set(['-a']));
      break;
    case 'nice':
      skipOptions(new Set(['-n']));
      break;
    case 'timeout':
      skipOptions(new Set(['-s', '-k', '--signal', '--kill-after']));
      i++; // the duration
      break;
    case 'command':
    case 'nohup':
      skipOptions(new Set());
      break;
    default:
      return 0;
  }
  return i - at;
}

/** Whether a command word names terraform/tofu, directly or through a known variable. */
function isTool(word: string, toolVars: Set<string>): boolean {
  if (TOOL_PATH.test(word)) return true;
  const withDefault = /^\$\{[A-Za-z_][A-Za-z0-9_]*:?[-=](.*)\}$/s.exec(word);
  if (withDefault) return TOOL_PATH.test(withDefault[1] ?? '');
  const variable = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))$/.exec(word);
  return variable !== null && toolVars.has(variable[1] ?? variable[2] ?? '');
}

/** Finds the command word's index, skipping assignments, reserved words and wrappers; -1 if none. */
function commandWordIndex(words: string[], onAssignment: (name: string, value: string) => void): number {
  let i = 0;
  while (i < words.length) {
    const word = words[i] ?? '';
    const assignment = ASSIGNMENT.exec(word);
    if (assignment) {
      onAssignment(assignment[1] ?? '', assignment[2] ?? '');
      i++;
    } else if (RESERVED_PREFIXES.has(word)) {
      i += word === 'time' && words[i + 1] === '-p' ? 2 : 1;
    } else if (word === 'command' && /^-[vV]/.test(words[i + 1] ?? '')) {
      return -1; // `command -v terraform` only looks the binary up
    } else {
      const skip = wrapperLength(words, i, onAssignment);
      if (skip === 0) return i;
      i += skip;
    }
  }
  return -1;
}

/** Variables the text assigns a terraform/tofu binary to (TF=tofu, export TF_BIN=/usr/bin/terraform). */
function toolVariables(commands: SimpleCommand[]): Set<string> {
  const vars = new Set<string>();
  const record = (name: string, value: string): void => {
    if (isTool(value, vars)) vars.add(name);
  };
  for (const { words } of commands) {
    const values = words.map((w) => w.value);
    const at = commandWordIndex(values, record);
    if (['export', 'readonly', 'local', 'declare', 'typeset'].includes(values[at] ?? '')) {
      for (const word of values.slice(at + 1)) {
        const assignment = ASSIGNMENT.exec(word);
        if (assignment) record(assignment[1] ?? '', assignment[2] ?? '');
      }
    }
  }
  return vars;
}

const TF_CLI_ARGS = /^TF_CLI_ARGS(?:_.*)?$/s;

/**
 * The TF_CLI_ARGS* variables a script sets, followed in source order. `exported`
 * reach terraform; `local` were assigned but (not yet) exported.
 */
class CliArgsEnvironment {
  readonly exported = new Map<string, string>();
  private readonly local = new Map<string, string>();
  private allexport = false;

  /** A command without a command word: `X=value` on its own. */
  assign(name: string, value: string): void {
    if (!TF_CLI_ARGS.test(name)) return;
    if (this.allexport || this.exported.has(name)) this.exported.set(name, value);
    else this.local.set(name, value);
  }

  /** Follows the builtins that change what is exported. */
  builtin(command: string, operands: string[]): void {
    const options = operands.filter((word) => word.startsWith('-') || word.startsWith('+'));
    const names = operands.filter((word) => !word.startsWith('-') && !word.startsWith('+'));
    if (command === 'set') {
      operands.forEach((option, i) => {
        const next = operands[i + 1];
        if (/^-[a-zA-Z]*a/.test(option) || (option === '-o' && next === 'allexport')) this.allexport = true;
        if (/^\+[a-zA-Z]*a/.test(option) || (option === '+o' && next === 'allexport')) this.allexport = false;
      });
    } else if (command === 'unset') {
      for (const name of names) {
        this.exported.delete(name);
        this.local.delete(name);
      }
    } else if (command === 'export' || (['declare', 'typeset', 'local'].includes(command) && options.some((o) => /^-[a-zA-Z]*x/.test(o)))) {
      const unexport = options.some((o) => /^-[a-zA-Z]*n/.test(o)) && command === 'export';
      for (const word of names) {
        const assignment = ASSIGNMENT.exec(word);
        const name = assignment ? (assignment[1] ?? '') : word;
        if (!TF_CLI_ARGS.test(name)) continue;
        const value = assignment ? (assignment[2] ?? '') : (this.exported.get(name) ?? this.local.get(name));
        if (unexport) {
          this.exported.delete(name);
          if (value !== undefined) this.local.set(name, value);
        } else if (value !== undefined) {
          this.exported.set(name, value);
          this.local.delete(name);
        }
      }
    } else if (['declare', 'typeset', 'local', 'readonly'].includes(command)) {
      for (const word of names) {
        const assignment = ASSIGNMENT.exec(word);
        if (assignment) this.assign(assignment[1] ?? '', assignment[2] ?? '');
      }
    }
  }

  /** What a command sees: the exported variables, then its own prefix assignments. */
  forCommand(prefix: Map<string, string>): Record<string, string> {
    const env = Object.fromEntries(this.exported);
    for (const [name, value] of prefix) if (TF_CLI_ARGS.test(name)) env[name] = value;
    return env;
  }
}

/** Lists every terraform/tofu command the text would run, in source order. */
export function scanPipelineText(text: string): ScannedCommand[] {
  const normalized = text.replace(/\r\n?/g, '\n');
  const sourceLines = normalized.split('\n');
  const commands = simpleCommands(tokenize(normalized));
  const toolVars = toolVariables(commands);
  const environment = new CliArgsEnvironment();
  const found: ScannedCommand[] = [];
  for (const { words } of commands) {
    const values = words.map((w) => w.value);
    const prefix = new Map<string, string>();
    const at = commandWordIndex(values, (name, value) => prefix.set(name, value));
    const commandWord = words[at];
    if (commandWord === undefined) {
      for (const [name, value] of prefix) environment.assign(name, value);
      continue;
    }
    if (!isTool(commandWord.value, toolVars)) {
      environment.builtin(commandWord.value, values.slice(at + 1));
      continue;
    }
    const args = values.slice(at + 1);
    const env = environment.forCommand(prefix);
    const command: ScannedCommand = {
      line: commandWord.line,
      text: logicalLine(sourceLines, commandWord.line),
      tool: commandWord.value,
      args,
      parsed: parseInvocationArgs(args, env),
    };
    if (Object.keys(env).length > 0) command.env = env;
    found.push(command);
  }
  return found;
}

/** The source line `line` (1-based), joined with the lines around it that backslash-continue it. */
function logicalLine(lines: string[], line: number): string {
  let first = line - 1;
  while (first > 0 && /\\$/.test(lines[first - 1] ?? '')) first--;
  let last = line - 1;
  while (last < lines.length - 1 && /\\$/.test(lines[last] ?? '')) last++;
  return lines
    .slice(first, last + 1)
    .map((l) => l.replace(/\\$/, '').trim())
    .join(' ')
    .trim();
}

/** State-writing terraform/tofu commands written with locking switched off. */
export function findUnlockedWrites(text: string): ScannedCommand[] {
  return scanPipelineText(text).filter((c) => c.parsed.stateWriting && c.parsed.lockDisabled);
}

/** terraform/tofu force-unlock commands. */
export function findForceUnlock(text: string): ScannedCommand[] {
  return scanPipelineText(text).filter((c) => c.parsed.subcommand === 'force-unlock');
}
