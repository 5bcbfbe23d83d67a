// The layout follows the pipeline: scenario -> learner run -> evidence ->
// judges -> reports. No module imports from a stage after its own, and judges
// stay pure (no I/O, no terraform, no lab). Type-only imports count too.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { repoPath } from '../../src/paths.ts';

const SRC = repoPath('src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sources(full);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [full] : [];
  });
}

/** Every module a file imports: repo-relative paths for our own, the specifier for others. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\('([^']+)'\)/g)].map((m) => m[1] ?? m[2] ?? '');
  return found.map((spec) => (spec.startsWith('.') ? path.relative(SRC, path.resolve(path.dirname(file), spec)) : spec));
}

const files = sources(SRC).map((file) => ({ file: path.relative(SRC, file), imports: importsOf(file) }));

/** [who, what they must not import, why] */
const RULES: Array<[RegExp, RegExp, string]> = [
  [/^evidence\//, /^(challenge\d|report|learner|commands)\/|^grading\/(lab|run-challenge|grade|assemble|session|verify)\.ts$|^challenges\.ts$/, 'evidence comes before judges and reports and does not drive runs'],
  [/^challenge\d\/(judges|evidence)\.ts$/, /^challenge\d\/(scenario|definition)\.ts$|^(learner|terraform|workspace|report|commands)\/|^grading\/(lab|run-challenge|grade|session)\.ts$|^backend\/(embedded|lab-store|index)\.ts$|^node:(fs|fs\/promises|child_process|net|http)$|^execa$|^@aws-sdk\//, 'judges are pure functions of the evidence'],
  [/^challenge\d\/scenario\.ts$/, /^challenge\d\/judges\.ts$|^report\//, 'a scenario produces evidence; it does not judge or report'],
  [/^learner\//, /^(challenge\d|evidence|report|commands)\/|^grading\/(lab|run-challenge|grade|assemble|verify)\.ts$/, 'a learner run knows nothing of evidence, judges or reports'],
  [/^report\//, /^(challenge\d|evidence|learner)\/|^grading\/(lab|run-challenge|grade|session)\.ts$/, 'reports read results, nothing earlier'],
  [/^queue\//, /^(challenge\d|evidence|learner|report|workspace|backend)\/|^grading\/(lab|run-challenge|session|assemble|verify)\.ts$|^challenges\.ts$/, 'a queue worker grades only through `grade` child processes (type imports aside)'],
];

describe('the import graph follows the pipeline', () => {
  test('there are modules of every stage', () => {
    for (const stage of [/^challenge1\/scenario\.ts$/, /^learner\/learner-run\.ts$/, /^evidence\/relay\.ts$/, /^challenge2\/judges\.ts$/, /^report\/junit\.ts$/]) {
      expect(files.some((f) => stage.test(f.file))).toBe(true);
    }
  });
  test.each(RULES.map(([who, what, why]) => [why, who, what] as const))('%s', (_why, who, what) => {
    const violations = files.filter((f) => who.test(f.file)).flatMap((f) => f.imports.filter((i) => what.test(i)).map((i) => `${f.file} imports ${i}`));
    expect(violations).toEqual([]);
  });
});
