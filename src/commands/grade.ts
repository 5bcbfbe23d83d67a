import { parseLimitOptions } from '../learner/limits.ts';
import { parseBackendKind } from '../backend/index.ts';
import { parseLocalstackNetwork } from '../backend/localstack-container.ts';
import { parseLabVariant } from '../backend/lab-variant.ts';
import { LockgraderError } from '../errors.ts';
import { COMMANDS, parseArgsOptions } from './option-tables.ts';
import { parseCommandArgs } from './parse-command-args.ts';
import { stopGradingWhenStdinCloses } from './stop-grading.ts';
import { loadRubric, parseChallenges } from '../grading/checks.ts';
import { gradeSubmission } from '../grading/grade.ts';
import type { GradeResult } from '../grading/types.ts';
import { writeJsonFile } from '../util/json-file.ts';

function positiveNumber(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0) throw new LockgraderError('USAGE', `${flag} takes a number >= 0 (got "${value}")`, { flag, value });
  return number;
}


function printSummary(result: GradeResult): void {
  const lines = result.checks
    .filter((check) => check.status !== 'skipped')
    .map((check) => `  ${check.status.padEnd(5)} ${check.id.padEnd(28)} ${String(check.score).padStart(3)}/${String(check.max_score).padEnd(3)} ${check.status === 'pass' ? '' : check.feedback}`);
  console.log(`lockgrader: ${result.status}, score ${result.score}/${result.max_score} in ${(result.duration_ms / 1000).toFixed(1)} s`);
  console.log(lines.join('\n'));
  if (result.error) console.log(`error: ${result.error.message}`);
}

export async function gradeCommand(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(argv, parseArgsOptions(COMMANDS['grade'].options));
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new LockgraderError('USAGE', 'grade takes exactly one SUBMISSION_DIR');
  const challenges = parseChallenges(values.challenges);
  const scriptTimeout = positiveNumber('--script-timeout', values['script-timeout']);
  const failUnder = positiveNumber('--fail-under', values['fail-under']);
  const workers = positiveNumber('--workers', values.workers);
  const rubric = await loadRubric(values.rubric);
  const limits = parseLimitOptions(values);
  const labVariant = parseLabVariant(values['lab-variant']);
  if (values['stdin-lifeline']) stopGradingWhenStdinCloses();
  const { result, keptDir } = await gradeSubmission({
    submission: positionals[0] as string,
    challenges,
    backendKind: parseBackendKind(values.backend ?? 'embedded'),
    endpoint: values.endpoint ?? process.env.LOCKGRADER_ENDPOINT,
    localstackNetwork: parseLocalstackNetwork(values['localstack-network'] ?? process.env.LOCKGRADER_LOCALSTACK_NETWORK),
    labVariant,
    scriptTimeoutMs: scriptTimeout === undefined ? undefined : scriptTimeout * 1000,
    rubric,
    reveal: values.reveal,
    ...(workers === undefined ? {} : { challengesAtOnce: workers }),
    noSandbox: values['no-sandbox'],
    progress: !values.quiet && process.stderr.isTTY === true,
    keep: values.keep,
    ...(values['progress-json'] ? { onProgress: (progress) => process.stdout.write(`${JSON.stringify(progress)}\n`) } : {}),
    limits,
  });
  if (keptDir) console.error(`lockgrader: kept the grading's folder (workspaces, learner copies, records): ${keptDir}`);
  if (values.json) await writeJsonFile(values.json, result);
  if (values.report) await (await import('../report/html.ts')).writeHtmlReport(result, values.report);
  // Loaded only when asked: the JUnit package is a 1.5 MB bundle the grading itself never needs.
  if (values.junit) await (await import('../report/junit.ts')).writeJunitReport(result, values.junit);
  if (values.gradescope) {
    const { toGradescope } = await import('../report/gradescope.ts');
    await writeJsonFile(values.gradescope, toGradescope(result));
  }
  if (!values.quiet) printSummary(result);
  if (result.status === 'error') return 3;
  if (failUnder !== undefined && result.score < failUnder) return 1;
  return 0;
}
