// npm run bench [-- --runs N] [--json FILE]
//
// Measures a grading the way a user runs it: every grading is a real
// `bin/lockgrader` child process, sampled from /proc every 20 ms (peak RSS of
// the whole tree). Prints, per issue 13's targets (PASS/MISS, never asserted):
//   - each challenge graded alone (--challenges N), median wall of --runs;
//   - full gradings (all three, two challenges at once as `grade` does by
//     default): median wall, the ratio to the slowest single challenge, peak
//     RSS and PSS of the tree and what made them up, agreement of every check
//     between runs; one more with --workers 3 (all at once), for comparison;
//   - grade-many at concurrency 4 on 8 copies of the reference: gradings per
//     minute, the machine's CPU busy meanwhile (is the wall CPU-bound?), every
//     check agreeing with the full gradings.
// The last line is the whole report as one JSON line (also --json FILE).
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { GradeResult } from '../src/grading/types.ts';
import { repoPath } from '../src/paths.ts';
import { median, signature, targets } from './bench/model.ts';
import { printTargets, seconds } from './bench/print.ts';
import { runSampled, type SampledRun } from './bench/run-sampled.ts';

const REFERENCE = repoPath('fixtures', 'submissions', 'reference');

async function grade(work: string, name: string, extra: string[]): Promise<SampledRun & { result?: GradeResult }> {
  const json = path.join(work, `${name}.json`);
  const child = await runSampled(['grade', REFERENCE, '--quiet', '--json', json, ...extra]);
  const result = await readFile(json, 'utf8').then((text) => JSON.parse(text) as GradeResult, () => undefined);
  return { ...child, result };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, json: { type: 'string' } } });
  const runs = Math.max(1, Number(values.runs));
  const work = await mkdtemp(path.join(tmpdir(), 'lockgrader-bench-'));
  try {
    console.log(`bench: ${runs} run(s) each, reference submission, embedded backend\n`);
    const singles: Record<string, number> = {};
    for (const challenge of [1, 2, 3]) {
      const walls: number[] = [];
      for (let run = 0; run < runs; run += 1) walls.push((await grade(work, `single-${challenge}-${run}`, ['--challenges', String(challenge)])).wallMs);
      singles[challenge] = median(walls);
      console.log(`  challenge ${challenge} alone        ${seconds(singles[challenge]!)} (median of ${runs})`);
    }
    const full: Array<SampledRun & { result?: GradeResult }> = [];
    for (let run = 0; run < runs; run += 1) {
      const graded = await grade(work, `full-${run}`, []);
      full.push(graded);
      console.log(`  full grading ${run + 1}          ${seconds(graded.wallMs)}  score ${graded.result?.score}/${graded.result?.max_score}  peak RSS ${graded.peakRssMb.toFixed(0)} MB / PSS ${graded.peakPssMb.toFixed(0)} MB, ${graded.peakProcesses} processes (RSS: ${graded.peak}; PSS: ${graded.peakPss})`);
    }
    // For comparison, not a target: all three challenges at once (the default grades two at once).
    const allAtOnce = await grade(work, 'full-workers-3', ['--workers', '3']);
    console.log(`  full grading, --workers 3  ${seconds(allAtOnce.wallMs)}  score ${allAtOnce.result?.score}/${allAtOnce.result?.max_score}  peak RSS ${allAtOnce.peakRssMb.toFixed(0)} MB / PSS ${allAtOnce.peakPssMb.toFixed(0)} MB (PSS: ${allAtOnce.peakPss})`);
    const fullWallMs = median(full.map((run) => run.wallMs));
    const slowestSingleMs = Math.max(...Object.values(singles));
    const peakRssMb = Math.max(...full.map((run) => run.peakRssMb));
    const peakPssMb = Math.max(...full.map((run) => run.peakPssMb));
    const baseline = full[0]?.result ? signature(full[0].result) : '';
    const fullAgree = full.every((run) => run.result && signature(run.result) === baseline);
    console.log(`  full gradings agree: ${fullAgree ? 'yes' : 'NO'}`);

    const copies: string[] = [];
    for (let n = 1; n <= 8; n += 1) {
      const copy = path.join(work, 'copies', `reference-${n}`);
      await cp(REFERENCE, copy, { recursive: true });
      copies.push(copy);
    }
    const out = path.join(work, 'many');
    // Sampled every 250 ms, not 20: reading ~100 processes' smaps_rollup 50 times a second took CPU from the gradings
    // (grade-many alone: 13.0-14.3 gradings/min here; sampled every 20 ms: 11.4-11.9).
    const many = await runSampled(['grade-many', ...copies, '--concurrency', '4', '--out', out], { sampleMs: 250 });
    const manyResults = await Promise.all(copies.map((copy) => readFile(path.join(out, `${path.basename(copy)}.json`), 'utf8').then((text) => JSON.parse(text) as GradeResult, () => undefined)));
    const manyAgree = manyResults.every((result) => result && signature(result) === baseline);
    manyResults.forEach((result, index) => {
      if (!result) console.log(`  grade-many: ${path.basename(copies[index]!)} wrote no results`);
      else if (signature(result) !== baseline) {
        for (const check of result.checks.filter((c) => c.status !== 'pass' && c.status !== 'skipped')) console.log(`  grade-many: ${path.basename(copies[index]!)} ${check.id} ${check.status}: ${check.feedback.slice(0, 300)}`);
      }
    });
    const perMinute = (copies.length * 60_000) / many.wallMs;
    console.log(`  grade-many c=4, 8 copies   ${seconds(many.wallMs)}  ${perMinute.toFixed(1)} gradings/min, peak RSS ${many.peakRssMb.toFixed(0)} MB / PSS ${many.peakPssMb.toFixed(0)} MB, machine CPU busy ${(many.machineBusy * 100).toFixed(0)} %; every check agrees with the full gradings: ${manyAgree ? 'yes' : 'NO'}`);

    const list = targets({ fullWallMs, slowestSingleMs, peakRssMb, peakPssMb, perMinute, agree: manyAgree && fullAgree });
    printTargets(list);
    const report = { runs, singles_ms: singles, full_wall_ms: Math.round(fullWallMs), peak_rss_mb: Math.round(peakRssMb), peak_pss_mb: Math.round(peakPssMb), per_minute: Number(perMinute.toFixed(1)), many_peak_rss_mb: Math.round(many.peakRssMb), many_machine_busy: Number(many.machineBusy.toFixed(2)), workers3_wall_ms: Math.round(allAtOnce.wallMs), workers3_peak_pss_mb: Math.round(allAtOnce.peakPssMb), agree: manyAgree && fullAgree, targets: list };
    if (values.json) await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
    console.log(JSON.stringify(report));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
