// `if:` conditions on step outputs (`if: steps.plan.outputs.exitcode == '2'`)
// and on the outputs of needed jobs (`if: needs.plan.outputs.changes == 'true'`,
// where the job's `outputs:` maps a name to one of its steps' outputs), and on
// the outcome/conclusion of an earlier step known only at run time (one with
// continue-on-error, or itself decided at run time: `if: steps.plan.outcome == 'failure'`),
// decided when the step or job is reached, as on a runner. A step's outputs are what it
// wrote to $GITHUB_OUTPUT, known only at run time, while the rest of a workflow
// is evaluated before the run (workflow.ts). So a condition whose only unknowns
// are outputs of earlier run: steps of the same job is evaluated here for every
// class of value each output can have: not set, empty, equal (case-insensitively,
// as GitHub compares strings) to one of the literals the condition names, or any
// other text. The rendered script classifies the real values and runs the step
// when its class combination is one that evaluated true.
//
// Only conditions where each output is a plain operand (of ==, !=, !, &&, || or
// alone) are taken: there the class decides the result. An output passed to a
// function (contains(), startsWith(), fromJSON()) or compared with < > is not,
// and such a step stays skipped with the reason said (workflow.ts).

import { type ContextResolver, type ExpressionValue, evaluateExpression, falsy } from './workflow-expression.ts';

export interface OutputRef {
  /** Where the rendered script keeps the value: "<job>/<step id>.<output name>", lower case. */
  key: string;
}

export interface RuntimeCondition {
  /** The outputs the condition reads. */
  refs: OutputRef[];
  /** The literals (lower case, non-empty) that name classes 2, 3, ...; 0 is "not set", 1 is "empty", "o" any other text. */
  literals: string[];
  /** The class combinations (one class per ref, joined with "_") for which the step runs. */
  runs: string[];
}

const MAX_REFS = 3;
const OUTPUT_REF = /\b(?:steps|needs)\.([A-Za-z_][\w-]*)\.(?:outputs\.([A-Za-z_][\w-]*)|outcome\b|conclusion\b)/gi;
/** Two unlike texts for "any other value": the result must not depend on which. */
const OTHERS = ['lockgrader-any-other-value', 'x'];

/** Whether every output reference in the condition is a plain operand (not a function argument, not ordered). */
function plainOperands(text: string): boolean {
  const marked = text.replace(OUTPUT_REF, '\u0000');
  if (/\b(?:steps|needs)\s*[.[]/i.test(marked)) return false; // another spelling (steps['x']), or outputs mixed with outcome/result
  const before = /(?:^|\(|!|&&|\|\||==|!=)\s*$/;
  const after = /^\s*(?:$|\)|&&|\|\||==|!=)/;
  const parts = marked.split('\u0000');
  for (let i = 0; i < parts.length - 1; i += 1) {
    const left = parts[i] ?? '';
    const right = parts[i + 1] ?? '';
    if (!before.test(left) || !after.test(right)) return false;
    // "(" of a function call: a name right before it
    if (/[\w-]\s*\(\s*$/.test(left)) return false;
  }
  return true;
}

/** The string and number literals of an expression, as lower-case texts, without duplicates or the empty one. */
function literalsOf(text: string): string[] {
  const found = new Set<string>();
  for (const match of text.matchAll(/'((?:[^']|'')*)'|(?<![\w.])(-?\d+(?:\.\d+)?)(?![\w.])/g)) {
    const literal = match[1] !== undefined ? match[1].replaceAll("''", "'") : String(Number(match[2]));
    if (literal !== '') found.add(literal.toLowerCase());
  }
  return [...found];
}

/** Every combination of one class per ref. */
function combinations(classes: string[], count: number): string[][] {
  let out: string[][] = [[]];
  for (let i = 0; i < count; i += 1) out = out.flatMap((prefix) => classes.map((c) => [...prefix, c]));
  return out;
}

/**
 * The condition as one decided at run time, or undefined when it cannot be:
 * an unknown that `keyOf` does not place (it knows the outputs of the job's
 * earlier run: steps, or of needed jobs), more than MAX_REFS outputs, or an
 * output used other than as a plain operand.
 */
export function runtimeCondition(
  expression: string,
  unknown: string[],
  keyOf: (name: string) => string | undefined,
  resolve: ContextResolver,
): RuntimeCondition | undefined {
  const refs: OutputRef[] = [];
  for (const name of unknown) {
    const key = keyOf(name.toLowerCase());
    if (key === undefined) return undefined;
    refs.push({ key });
  }
  if (refs.length === 0 || refs.length > MAX_REFS || !plainOperands(expression)) return undefined;
  const literals = literalsOf(expression);
  const classes = ['0', '1', ...literals.map((_, i) => String(i + 2)), 'o'];
  const valueOf = (cls: string, other: string): ExpressionValue => (cls === '0' ? null : cls === '1' ? '' : cls === 'o' ? other : (literals[Number(cls) - 2] ?? ''));
  const runs: string[] = [];
  for (const combo of combinations(classes, refs.length)) {
    const results = OTHERS.map((other) => {
      const wrapped: ContextResolver = (path) => {
        if (path.length >= 3) {
          const key = keyOf(path.join('.').toLowerCase());
          const at = refs.findIndex((ref) => ref.key === key);
          if (at >= 0) return valueOf(combo[at] ?? '0', other);
        }
        return resolve(path);
      };
      try {
        const evaluated = evaluateExpression(expression, wrapped);
        return evaluated.unknown.length > 0 ? undefined : !falsy(evaluated.value);
      } catch {
        return undefined;
      }
    });
    if (results.some((r) => r === undefined) || results[0] !== results[1]) return undefined;
    if (results[0] === true) runs.push(combo.join('_'));
  }
  return { refs, literals, runs };
}

/** Single-quotes text for bash. */
function quote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * Bash: reads a step's $GITHUB_OUTPUT (NAME=value, or NAME<<DELIMITER ... DELIMITER)
 * into __lg_outputs["step.name"] (lower case), and __lg_class, which names an
 * output's class for a RuntimeCondition.
 */
export const OUTPUT_FUNCTIONS = [
  'declare -A __lg_outputs=()',
  '__lg_output() { __lg_outputs["$__lg_step_id.${1,,}"]=$2; }',
  '__lg_outputs_load() { __lg_step_id=$1; __lg_pairs "$2" __lg_output; }',
  '__lg_class() {',
  '  local key=$1 value literal i=2; shift',
  '  if [ -z "${__lg_outputs[$key]+set}" ]; then echo 0; return; fi',
  '  value=${__lg_outputs[$key]}',
  '  if [ -z "$value" ]; then echo 1; return; fi',
  '  for literal in "$@"; do',
  '    if [ "${value,,}" = "$literal" ]; then echo "$i"; return; fi',
  '    i=$((i + 1))',
  '  done',
  '  echo o',
  '}',
];

/** A bash test that succeeds when every condition holds for the outputs written so far. */
export function renderRuntimeTest(conditions: RuntimeCondition[]): string {
  return conditions
    .map((condition) => {
      const literals = condition.literals.map(quote).join(' ');
      const key = condition.refs.map((ref) => `$(__lg_class ${quote(ref.key)}${literals === '' ? '' : ` ${literals}`})`).join('_');
      const runs = condition.runs.length === 0 ? "''" : condition.runs.join('|');
      return `case "${key}" in ${runs}) true ;; *) false ;; esac`;
    })
    .join(' && ');
}
