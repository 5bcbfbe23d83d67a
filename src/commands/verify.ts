import path from 'node:path';
import { parseBackendKind } from '../backend/index.ts';
import { parseLocalstackNetwork } from '../backend/localstack-container.ts';
import { parseLabVariant } from '../backend/lab-variant.ts';
import { COMMANDS, parseArgsOptions } from './option-tables.ts';
import { parseCommandArgs } from './parse-command-args.ts';
import { repoPath } from '../paths.ts';
import { verifyFixtures, type FixtureOutcome } from '../grading/verify.ts';
import { writeJsonFile } from '../util/json-file.ts';

function formatFixture(outcome: FixtureOutcome): string {
  if (outcome.skipped) return `skip ${outcome.fixture}: ${outcome.skipped}`;
  const ok = outcome.mismatches.length === 0 && outcome.problems.length === 0;
  const repeats = outcome.repeats ? `, ${outcome.repeats.identical} of ${outcome.repeats.runs} gradings identical` : '';
  const lines = [`${ok ? 'ok  ' : 'FAIL'} ${outcome.fixture} (${outcome.score}/${outcome.max_score}, ${(outcome.duration_ms / 1000).toFixed(1)} s${repeats})`];
  for (const cell of outcome.cells) {
    const mark = cell.expected === cell.got ? '  ' : '!!';
    lines.push(`   ${mark} ${cell.check.padEnd(28)} expected ${cell.expected.padEnd(7)} got ${cell.got}${cell.expected === cell.got ? '' : `  — ${cell.feedback}`}`);
  }
  for (const problem of outcome.problems) lines.push(`   !! ${problem}`);
  return lines.join('\n');
}

export async function verifyCommand(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(argv, parseArgsOptions(COMMANDS['verify'].options));
  const { values, positionals } = parsed;
  const root = path.resolve(values.fixtures ?? repoPath('fixtures/submissions'));
  const outcomes = await verifyFixtures({
    root,
    only: positionals,
    backendKind: parseBackendKind(values.backend ?? 'embedded'),
    labVariant: parseLabVariant(values['lab-variant']),
    endpoint: values.endpoint ?? process.env.LOCKGRADER_ENDPOINT,
    localstackNetwork: parseLocalstackNetwork(values['localstack-network'] ?? process.env.LOCKGRADER_LOCALSTACK_NETWORK),
    repeat: values.repeat === undefined ? undefined : Number(values.repeat),
    noSandbox: values['no-sandbox'],
    terraformPath: values.terraform,
    onFixture: (outcome) => console.log(formatFixture(outcome)),
  });
  const bad = outcomes.filter((outcome) => outcome.mismatches.length > 0 || outcome.problems.length > 0);
  const skipped = outcomes.filter((outcome) => outcome.skipped).length;
  console.log(`verify: ${outcomes.length - bad.length - skipped} of ${outcomes.length - skipped} fixtures as expected${skipped ? ` (${skipped} skipped)` : ''}`);
  for (const outcome of bad) {
    for (const cell of outcome.mismatches) console.log(`verify: mismatch ${outcome.fixture} × ${cell.check}: expected ${cell.expected}, got ${cell.got}`);
    for (const problem of outcome.problems) console.log(`verify: ${outcome.fixture}: ${problem}`);
  }
  if (values.json) await writeJsonFile(values.json, outcomes);
  if (values.junit) await (await import('../report/verify-junit.ts')).writeVerifyJunit(outcomes, values.junit);
  if (outcomes.length === 0) {
    console.error(`verify: no fixtures under ${root}`);
    return 2;
  }
  return bad.length === 0 ? 0 : 1;
}
