// npm run bench:variants [-- --runs N] [--json FILE]
//
// What a lab variant and a backend cost, measured the way a user grades: each
// grading is a real `bin/lockgrader grade` child process, its tree sampled
// from /proc every 20 ms (peak RSS and PSS, the processes at the peak). For
// each cell (backend × variant, with the reference of that variant) it prints
// the median wall time of --runs gradings, the peak memory, the score of every
// run, and whether every check agreed between runs. Also: moto's start time
// (median of --runs starts). Numbers only, never asserted (docs/scaling.md).
// The last line is the whole report as one JSON line (also --json FILE).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startMotoBackend } from '../src/backend/moto.ts';
import type { GradeResult } from '../src/grading/types.ts';
import { repoPath } from '../src/paths.ts';
import { median, signature } from './bench/model.ts';
import { seconds } from './bench/print.ts';
import { runSampled } from './bench/run-sampled.ts';

const CELLS = [
  { backend: 'embedded', variant: 'dynamodb', fixture: 'reference' },
  { backend: 'moto', variant: 'dynamodb', fixture: 'reference' },
  { backend: 'moto', variant: 'lockfile', fixture: 'reference-lockfile' },
  { backend: 'moto', variant: 'both', fixture: 'reference' },
] as const;

interface Run {
  wallMs: number;
  peakRssMb: number;
  peakPssMb: number;
  peak: string;
  score?: number;
  signature?: string;
}

async function gradeOnce(work: string, cell: (typeof CELLS)[number], index: number): Promise<Run> {
  const json = path.join(work, `${cell.backend}-${cell.variant}-${index}.json`);
  const args = ['grade', repoPath('fixtures', 'submissions', cell.fixture), '--quiet', '--json', json, '--backend', cell.backend, '--lab-variant', cell.variant];
  const run = await runSampled(args, { showStderr: true });
  const graded = await readFile(json, 'utf8')
    .then((text) => JSON.parse(text) as GradeResult)
    .then(
      (result) => ({ score: result.score, signature: signature(result) }),
      () => ({}),
    );
  return { wallMs: run.wallMs, peakRssMb: run.peakRssMb, peakPssMb: run.peakPssMb, peak: run.peak, ...graded };
}

async function motoStarts(runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const backend = await startMotoBackend();
    times.push(backend.startMs);
    await backend.stop();
  }
  return times;
}

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, json: { type: 'string' } } });
const runs = Math.max(1, Number(values.runs));
const work = await mkdtemp(path.join(tmpdir(), 'lockgrader-bench-variants-'));
const report: Record<string, unknown> = { runs, load_before: (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ') };
try {
  const starts = await motoStarts(runs);
  report.moto_start_ms = Math.round(median(starts));
  console.log(`moto start: median ${Math.round(median(starts))} ms of ${runs} (${starts.map((ms) => Math.round(ms)).join(', ')})`);
  const cells: unknown[] = [];
  for (const cell of CELLS) {
    const done: Run[] = [];
    for (let i = 0; i < runs; i += 1) done.push(await gradeOnce(work, cell, i));
    const agree = done.every((run) => run.signature !== undefined && run.signature === done[0]?.signature);
    const peakRun = done.reduce((a, b) => (b.peakRssMb > a.peakRssMb ? b : a));
    const summary = {
      ...cell,
      median_wall_s: Number((median(done.map((run) => run.wallMs)) / 1000).toFixed(1)),
      peak_rss_mb: Math.round(peakRun.peakRssMb),
      peak_pss_mb: Math.round(Math.max(...done.map((run) => run.peakPssMb))),
      scores: done.map((run) => run.score ?? null),
      checks_agree: agree,
    };
    cells.push(summary);
    console.log(
      `${cell.backend.padEnd(8)} ${cell.variant.padEnd(8)} ${cell.fixture.padEnd(18)} wall ${seconds(median(done.map((run) => run.wallMs)))} (median of ${runs}), ` +
        `peak RSS ${summary.peak_rss_mb} MB / PSS ${summary.peak_pss_mb} MB, scores ${summary.scores.join(' ')}, checks ${agree ? 'agree' : 'DIFFER'}; at the peak: ${peakRun.peak}`,
    );
  }
  report.cells = cells;
  report.load_after = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
} finally {
  await rm(work, { recursive: true, force: true });
}
const line = JSON.stringify(report);
console.log(line);
if (values.json) await writeFile(values.json, `${line}\n`);
