// GitHub Actions expressions (`if:` conditions and `${{ ... }}` in text), as
// far as a graded workflow needs them: literals, context paths (a.b, a['b']),
// ! < <= > >= == != && ||, parentheses, and the functions success(), always(),
// failure(), cancelled(), contains(), startsWith(), endsWith(), format(),
// join(), toJSON(), fromJSON(). Semantics follow GitHub's documentation:
// strings compare case-insensitively, values of different types compare as
// numbers (null 0, booleans 1/0, strings parsed as JSON numbers, else NaN), &&
// and || give back an operand, and false, 0, -0, '', null and NaN are falsy.
//
// Contexts come from a resolver (workflow.ts decides what github.*, env.*,
// vars.* hold for the simulated run); a path it does not know is null and is
// named in `unknown`, so a caller can say which values were guessed.

export type ExpressionValue = string | number | boolean | null | ExpressionValue[] | { [key: string]: ExpressionValue };

/** A context path's value (e.g. ['github', 'ref']), or undefined when unknown here. */
export type ContextResolver = (path: string[]) => ExpressionValue | undefined;

export interface Evaluation {
  value: ExpressionValue;
  /** Context paths the resolver did not know (evaluated as null), joined with dots. */
  unknown: string[];
}

export class ExpressionError extends Error {}

type Token =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'word'; value: string }
  | { kind: 'op'; value: string };

const OPERATORS = ['&&', '||', '==', '!=', '<=', '>=', '<', '>', '!', '(', ')', '[', ']', '.', ','];

/** Splits an expression into tokens. */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    if (rest.startsWith("'")) {
      let value = '';
      let j = 1;
      for (;;) {
        if (j >= rest.length) throw new ExpressionError(`unterminated string in ${text}`);
        if (rest[j] === "'") {
          if (rest[j + 1] === "'") {
            value += "'";
            j += 2;
            continue;
          }
          break;
        }
        value += rest[j];
        j += 1;
      }
      tokens.push({ kind: 'string', value });
      i += j + 1;
      continue;
    }
    const number = /^(0x[0-9a-f]+|-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?)/i.exec(rest);
    const previous = tokens.at(-1);
    const afterOperand = previous !== undefined && (previous.kind !== 'op' || previous.value === ')' || previous.value === ']');
    if (number && !(rest.startsWith('-') && afterOperand)) {
      tokens.push({ kind: 'number', value: Number(number[0]) });
      i += number[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_-]*|^\*/.exec(rest);
    if (word) {
      tokens.push({ kind: 'word', value: word[0] });
      i += word[0].length;
      continue;
    }
    const op = OPERATORS.find((candidate) => rest.startsWith(candidate));
    if (op === undefined) throw new ExpressionError(`unexpected "${rest[0] ?? ''}" in ${text}`);
    tokens.push({ kind: 'op', value: op });
    i += op.length;
  }
  return tokens;
}

/** Whether a value is falsy in GitHub's sense. */
export function falsy(value: ExpressionValue): boolean {
  return value === false || value === null || value === '' || (typeof value === 'number' && (value === 0 || Number.isNaN(value)));
}

/** A value as a number, for comparisons between different types. */
function toNumber(value: ExpressionValue): number {
  if (value === null) return 0;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed === '') return 0;
    return /^[-+]?(0x[0-9a-f]+|(\d+\.?\d*|\.\d+)(e[+-]?\d+)?)$/i.test(trimmed) ? Number(trimmed) : Number.NaN;
  }
  return Number.NaN;
}

/** A value as text, as GitHub pastes it into a string. */
export function toText(value: ExpressionValue): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value, null, 2);
}

/** -1, 0, 1, or NaN (not comparable), with GitHub's coercions. */
function compare(a: ExpressionValue, b: ExpressionValue): number {
  if (typeof a === 'string' && typeof b === 'string') {
    const x = a.toUpperCase();
    const y = b.toUpperCase();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'object' && a !== null) return a === b ? 0 : Number.NaN;
  if (typeof b === 'object' && b !== null) return Number.NaN;
  const x = toNumber(a);
  const y = toNumber(b);
  if (Number.isNaN(x) || Number.isNaN(y)) return Number.NaN;
  return x < y ? -1 : x > y ? 1 : 0;
}

const FUNCTIONS: Record<string, (args: ExpressionValue[]) => ExpressionValue> = {
  success: () => true,
  always: () => true,
  failure: () => false,
  cancelled: () => false,
  contains: ([search = null, item = null]) =>
    Array.isArray(search) ? search.some((element) => compare(element, item) === 0) : toText(search).toUpperCase().includes(toText(item).toUpperCase()),
  startswith: ([a = null, b = null]) => toText(a).toUpperCase().startsWith(toText(b).toUpperCase()),
  endswith: ([a = null, b = null]) => toText(a).toUpperCase().endsWith(toText(b).toUpperCase()),
  format: ([template = null, ...args]) => toText(template).replace(/\{\{|\}\}|\{(\d+)\}/g, (all, index?: string) => (index === undefined ? all[0]! : toText(args[Number(index)] ?? null))),
  join: ([array = null, separator = ',']) => (Array.isArray(array) ? array.map(toText).join(toText(separator)) : toText(array)),
  tojson: ([value = null]) => JSON.stringify(value, null, 2),
  fromjson: ([text = null]) => {
    try {
      return JSON.parse(toText(text)) as ExpressionValue;
    } catch {
      throw new ExpressionError(`fromJSON: ${toText(text)} is not JSON`);
    }
  },
};

/** A property of an object or an element of an array (by its index as text); null when there is none. */
function member(value: ExpressionValue, key: string): ExpressionValue {
  if (Array.isArray(value)) return /^\d+$/.test(key) ? (value[Number(key)] ?? null) : null;
  if (typeof value === 'object' && value !== null) return Object.hasOwn(value, key) ? (value[key] ?? null) : null;
  return null;
}

/** A recursive-descent evaluator over the tokens. */
class Parser {
  private index = 0;
  readonly unknown: string[] = [];
  private readonly tokens: Token[];
  private readonly resolve: ContextResolver;
  private readonly text: string;

  constructor(tokens: Token[], resolve: ContextResolver, text: string) {
    this.tokens = tokens;
    this.resolve = resolve;
    this.text = text;
  }

  evaluate(): ExpressionValue {
    const value = this.or();
    if (this.index < this.tokens.length) throw new ExpressionError(`unexpected ${this.describe(this.tokens[this.index])} in ${this.text}`);
    return value;
  }

  private describe(token: Token | undefined): string {
    return token === undefined ? 'end' : `"${String(token.value)}"`;
  }

  private peekOp(...ops: string[]): string | undefined {
    const token = this.tokens[this.index];
    return token?.kind === 'op' && ops.includes(token.value) ? token.value : undefined;
  }

  private expectOp(op: string): void {
    if (this.peekOp(op) === undefined) throw new ExpressionError(`expected "${op}" but found ${this.describe(this.tokens[this.index])} in ${this.text}`);
    this.index += 1;
  }

  private or(): ExpressionValue {
    let left = this.and();
    while (this.peekOp('||')) {
      this.index += 1;
      const right = this.and();
      left = falsy(left) ? right : left;
    }
    return left;
  }

  private and(): ExpressionValue {
    let left = this.equality();
    while (this.peekOp('&&')) {
      this.index += 1;
      const right = this.equality();
      left = falsy(left) ? left : right;
    }
    return left;
  }

  private equality(): ExpressionValue {
    let left = this.relation();
    for (let op = this.peekOp('==', '!='); op !== undefined; op = this.peekOp('==', '!=')) {
      this.index += 1;
      const equal = compare(left, this.relation()) === 0;
      left = op === '==' ? equal : !equal;
    }
    return left;
  }

  private relation(): ExpressionValue {
    let left = this.unary();
    for (let op = this.peekOp('<', '<=', '>', '>='); op !== undefined; op = this.peekOp('<', '<=', '>', '>=')) {
      this.index += 1;
      const order = compare(left, this.unary());
      left = Number.isNaN(order) ? false : op === '<' ? order < 0 : op === '<=' ? order <= 0 : op === '>' ? order > 0 : order >= 0;
    }
    return left;
  }

  private unary(): ExpressionValue {
    if (this.peekOp('!')) {
      this.index += 1;
      return falsy(this.unary());
    }
    return this.primary();
  }

  private primary(): ExpressionValue {
    const token = this.tokens[this.index];
    if (token === undefined) throw new ExpressionError(`unexpected end of ${this.text}`);
    this.index += 1;
    if (token.kind === 'string' || token.kind === 'number') return token.value;
    if (token.kind === 'op') {
      if (token.value !== '(') throw new ExpressionError(`unexpected "${token.value}" in ${this.text}`);
      const inner = this.or();
      this.expectOp(')');
      return this.members(inner);
    }
    const word = token.value;
    if (word === 'true' || word === 'false') return word === 'true';
    if (word === 'null') return null;
    if (this.peekOp('(')) {
      this.index += 1;
      const args: ExpressionValue[] = [];
      if (!this.peekOp(')')) {
        args.push(this.or());
        while (this.peekOp(',')) {
          this.index += 1;
          args.push(this.or());
        }
      }
      this.expectOp(')');
      const fn = FUNCTIONS[word.toLowerCase()];
      if (fn === undefined) throw new ExpressionError(`the function ${word}() is not supported here`);
      return this.members(fn(args));
    }
    return this.path(word);
  }

  /** The next `.name` or `[index]` as a key, or undefined when none follows. */
  private memberKey(): string | undefined {
    if (this.peekOp('.')) {
      this.index += 1;
      const next = this.tokens[this.index];
      if (next?.kind !== 'word') throw new ExpressionError(`expected a property name after "." in ${this.text}`);
      this.index += 1;
      return next.value;
    }
    if (this.peekOp('[')) {
      this.index += 1;
      const key = toText(this.or());
      this.expectOp(']');
      return key;
    }
    return undefined;
  }

  /** Property and index accesses after a value (a function's result, a parenthesised expression). */
  private members(value: ExpressionValue): ExpressionValue {
    let result = value;
    for (let key = this.memberKey(); key !== undefined; key = this.memberKey()) result = member(result, key);
    return result;
  }

  /** A context path: the resolver is asked for the longest known prefix, then properties are read from its value. */
  private path(first: string): ExpressionValue {
    const path = [first];
    for (let key = this.memberKey(); key !== undefined; key = this.memberKey()) path.push(key);
    for (let length = path.length; length > 0; length -= 1) {
      const base = this.resolve(path.slice(0, length));
      if (base === undefined) continue;
      return path.slice(length).reduce<ExpressionValue>(member, base);
    }
    const name = path.join('.');
    if (!this.unknown.includes(name)) this.unknown.push(name);
    return null;
  }
}

/** Evaluates one expression (without its `${{ }}`). Throws ExpressionError on a syntax error or an unsupported function. */
export function evaluateExpression(text: string, resolve: ContextResolver): Evaluation {
  const parser = new Parser(tokenize(text), resolve, text.trim());
  const value = parser.evaluate();
  return { value, unknown: parser.unknown };
}
