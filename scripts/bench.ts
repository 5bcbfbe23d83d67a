// npm run bench [-- --runs N] [--json FILE] [--copies N] [--levels 1,2,4] [--backend-starts N]
//
// Measures how fast lockgrader grades, against the floor the lab itself sets,
// with the terraform/tofu lockgrader finds (LOCKGRADER_TERRAFORM, PATH, cache).
// Every grading is a real `bin/lockgrader` child process, exactly as a user or
// a platform runs it, so nothing here shares state with a grading.
//
//   1. embedded backend start: `lockgrader serve-backend` started --backend-starts
//      times (default 10) in fresh processes — cold, as every grading pays it —
//      reading the start_ms it prints (median, max); plus the same number of
//      starts inside this process (warm module cache), for contrast.
//   2. full gradings: `lockgrader grade fixtures/submissions/reference` (all 3
//      challenges, its own embedded backend) --runs times (default 5). For each:
//        wall        spawn of the child -> its exit (what a caller waits for);
//        floor       see computeFloor() below;
//        Jest start  spawn -> the first grader suite's beforeAll, seen as the
//                    first "lockgrader-run-*/cN-*" folder appearing in the child's
//                    private TMPDIR (watched with inotify): the suite makes it
//                    first thing. It is an upper bound for Jest proper: it also
//                    holds Node's boot, lockgrader's imports, the submission copy,
//                    two `tofu version` probes and the embedded backend's start;
//        peak RSS    VmRSS of the child and all its descendants (terraform,
//                    local-exec shells, learner scripts, aws, the recording
//                    wrappers), read from /proc/<pid>/status every 20 ms; the max
//                    over samples of the sum;
//        agreement   every check's status and score equal to the runs'
//                    per-check majority (differences are printed).
//      A first run with an empty Jest transform cache ("cold") is shown and
//      kept out of the medians.
//   3. throughput: `lockgrader grade-many` on --copies (default 4) copies of the
//      reference at each --levels concurrency (default 1,2,4): gradings per
//      minute of wall time, peak RSS of the tree, and whether every check of
//      every grading agrees with the sequential gradings of step 2 (their
//      per-check majority); every differing check is printed with its feedback.
//
// Targets (printed PASS/MISS, never asserted): a full grading within 1.3 x the
// floor (median of the runs' ratios); embedded backend cold start < 0.5 s (every
// start: judged on the max); peak RSS of a grading < 400 MB (max over runs).
// The last line printed is the whole report as one JSON line (also --json FILE).
import { spawn, type ChildProcess } from 'node:child_process';
import { watch, readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startEmbeddedBackend } from '../src/backend/embedded.ts';
import type { GradeResult } from '../src/grading/types.ts';
import { lockgraderCommand } from '../src/cli-command.ts';
import { repoPath } from '../src/paths.ts';
import { locateTerraform } from '../src/terraform/locate.ts';

const REFERENCE = repoPath('fixtures', 'submissions', 'reference');
const SAMPLE_MS = 20;
const TICK_MS = 10; // USER_HZ = 100 on Linux: /proc/<pid>/stat starttime is in 10 ms ticks
const TARGET_RATIO = 1.3;
const TARGET_BACKEND_MS = 500;
const TARGET_RSS_MB = 400;
// Jest's default transform cache is <tmpdir>/jest_<uid in base 36> (jest-config).
const JEST_CACHE_NAME = `jest_${process.getuid?.().toString(36) ?? 'x'}`;

// ---------------------------------------------------------------- statistics

function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function round(value: number, digits = 0): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Length of the union of [start, end) intervals (overlaps counted once). */
function unionLength(intervals: Array<[number, number]>): number {
  const sorted = intervals.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let total = 0;
  let end = -Infinity;
  for (const [a, b] of sorted) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}

// ---------------------------------------------------------------- /proc sampling

interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  startTicks: number;
}

/** One terraform/tofu process seen in the tree. */
interface TracedTerraform {
  pid: number;
  args: string[];
  /**
   * harness: started by lockgrader's own Node process; learner: by the recording
   * wrapper a learner script called; other: anything else named like terraform
   * (a terraform child forked for local-exec before it execs), ignored.
   */
  role: 'harness' | 'learner' | 'other';
  /** Started with LOCKGRADER_GATE: an apply that holds the lock inside its deploy step. */
  gated: boolean;
  startTicks: number;
  lastSeen: number;
  endedAt?: number;
}

function readStat(pid: string): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const close = text.lastIndexOf(')');
    const fields = text.slice(close + 2).split(' ');
    // After "pid (comm) ": state ppid pgrp ... field 22 (starttime) is index 19.
    return { pid: Number(pid), comm: text.slice(text.indexOf('(') + 1, close), ppid: Number(fields[1]), startTicks: Number(fields[19]) };
  } catch {
    return undefined;
  }
}

function readNul(file: string): string[] {
  try {
    return readFileSync(file, 'latin1').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

function readRssKb(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

// Samples a process tree every 20 ms: the sum of VmRSS over the root and all
// its descendants (peak kept), and the lifetime of every terraform process in
// it. A process's start comes from its starttime (10 ms ticks of the boot
// clock), mapped onto performance.now() by an offset averaged over every sample
// (/proc/uptime has the same 10 ms truncation, so the truncation cancels); its
// end is the midpoint between the last sample that saw it and the first that
// did not (±10 ms).
class TreeSampler {
  peakRssKb = 0;
  /** At the peak: RSS and count by process name. */
  peakByName = new Map<string, { kb: number; count: number }>();
  samples = 0;
  cpuMicros = 0;
  readonly terraform = new Map<string, TracedTerraform>();
  private offsetSum = 0;
  private offsetCount = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly rootPid: number;
  private readonly terraformComm: string;

  constructor(rootPid: number, terraformComm: string) {
    this.rootPid = rootPid;
    this.terraformComm = terraformComm;
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
  }

  private sample(): void {
    const cpu = process.cpuUsage();
    const now = performance.now();
    const uptime = Number(readFileSync('/proc/uptime', 'latin1').split(' ')[0]) * 1000;
    this.offsetSum += now - uptime;
    this.offsetCount += 1;
    const children = new Map<number, ProcStat[]>();
    const stats = new Map<number, ProcStat>();
    for (const entry of readdirSync('/proc')) {
      if (entry.charCodeAt(0) > 57 || entry.charCodeAt(0) < 48) continue;
      const stat = readStat(entry);
      if (!stat) continue;
      stats.set(stat.pid, stat);
      const list = children.get(stat.ppid);
      if (list) list.push(stat);
      else children.set(stat.ppid, [stat]);
    }
    const seen = new Set<string>();
    const root = stats.get(this.rootPid);
    if (root) {
      let rss = 0;
      const byName = new Map<string, { kb: number; count: number }>();
      const queue = [root];
      while (queue.length > 0) {
        const proc = queue.pop() as ProcStat;
        const kb = readRssKb(proc.pid);
        rss += kb;
        const name = byName.get(proc.comm) ?? { kb: 0, count: 0 };
        byName.set(proc.comm, { kb: name.kb + kb, count: name.count + 1 });
        queue.push(...(children.get(proc.pid) ?? []));
        if (proc.comm !== this.terraformComm) continue;
        const key = `${proc.pid}:${proc.startTicks}`;
        seen.add(key);
        const known = this.terraform.get(key);
        if (known) {
          known.lastSeen = now;
          continue;
        }
        const parentArgs = readNul(`/proc/${proc.ppid}/cmdline`);
        const parentIsNode = ['MainThread', 'node'].includes(stats.get(proc.ppid)?.comm ?? '');
        const parentIsWrapper = parentIsNode && /\/bin\/(terraform|tofu)$/.test(parentArgs[1] ?? '');
        this.terraform.set(key, {
          pid: proc.pid,
          args: readNul(`/proc/${proc.pid}/cmdline`).slice(1),
          role: parentIsWrapper ? 'learner' : parentIsNode ? 'harness' : 'other',
          gated: readNul(`/proc/${proc.pid}/environ`).some((variable) => variable.startsWith('LOCKGRADER_GATE=')),
          startTicks: proc.startTicks,
          lastSeen: now,
        });
      }
      if (rss > this.peakRssKb) {
        this.peakRssKb = rss;
        this.peakByName = byName;
      }
    }
    for (const [key, traced] of this.terraform) if (traced.endedAt === undefined && !seen.has(key)) traced.endedAt = (traced.lastSeen + now) / 2;
    this.samples += 1;
    const used = process.cpuUsage(cpu);
    this.cpuMicros += used.user + used.system;
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
    for (const traced of this.terraform.values()) traced.endedAt ??= traced.lastSeen + SAMPLE_MS / 2;
  }

  /** Start of a traced process on the performance.now() clock. */
  startOf(traced: TracedTerraform): number {
    return traced.startTicks * TICK_MS + this.offsetSum / this.offsetCount;
  }

  durationOf(traced: TracedTerraform): number {
    return Math.max(0, (traced.endedAt ?? traced.lastSeen) - this.startOf(traced));
  }
}

// ---------------------------------------------------------------- children

interface ChildOutcome {
  exitCode: number | null;
  wallMs: number;
  stdout: string;
  stderr: string;
  peakRssKb: number;
  sampler: TreeSampler;
  /** performance.now() of the spawn. */
  spawnedAt: number;
}

function runLockgrader(args: string[], options: { env: NodeJS.ProcessEnv; terraformComm: string; onSpawn?: (child: ChildProcess) => void }): Promise<ChildOutcome> {
  return new Promise((resolve, reject) => {
    const spawnedAt = performance.now();
    const child = spawn(...lockgraderCommand(args), { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid === undefined) {
      child.once('error', reject);
      return;
    }
    const sampler = new TreeSampler(child.pid, options.terraformComm);
    options.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-20_000)));
    child.once('close', (code) => {
      const wallMs = performance.now() - spawnedAt;
      sampler.stop();
      resolve({ exitCode: code, wallMs, stdout, stderr, peakRssKb: sampler.peakRssKb, sampler, spawnedAt });
    });
  });
}

// ---------------------------------------------------------------- the floor

interface Floor {
  floorMs: number;
  /** Harness terraform processes (init, baseline applies, holders, the refused plan, the harness plan), summed. */
  harnessTerraformMs: number;
  harnessTerraformCount: number;
  /** Time gated holders spent parked in their deploy step while the lock was held (subtracted: see below). */
  heldMs: number;
  /** Learner scripts, overlapping runs counted once. */
  scriptsMs: number;
  learnerTerraformCount: number;
  /** The `tofu version` probes lockgrader runs before grading (overhead, not floor). */
  versionProbeMs: number;
}

// THE FLOOR: the least time the lab's scenarios need for this submission if
// the harness itself cost nothing, from what happened in this very run.
//
// floor = harness terraform processes   Σ lifetime of every terraform process the
//                                       harness started (the /proc trace): the 4
//                                       inits (c1, c2, c3 replay + c3 holder's
//                                       workspace), 3 baseline applies, the 3
//                                       gated lock-holding applies, c1's refused
//                                       plan, c2's plan -detailed-exitcode.
//                                       Not the 2 `version` probes (lockgrader
//                                       finding its binary is overhead).
//       − held-lock time                Σ (lock-released − lock-held) from the
//                                       timeline, for the holders that were
//                                       released (c1, c3): while parked in the
//                                       gate a holder only waits for the work
//                                       scheduled inside the hold, which is
//                                       counted on its own (c1: the refused
//                                       plan above and identify.sh below; c3:
//                                       the pipeline run under contention), and
//                                       the harness's own steps inside the hold
//                                       (reading the lock, preparing the
//                                       learner's folder) are overhead, not
//                                       floor. lock-released is logged after
//                                       the holder exited, so its post-release
//                                       tail (the apply finishing) is not
//                                       counted either: in c3 it overlaps the
//                                       pipeline's wait, in c1 it is cleanup.
//                                       The killed c2 holder counts whole (it
//                                       must run until it holds the lock).
//       + learner scripts               the union on the timeline of
//                                       [script-start, + scripts[].duration_ms]
//                                       for every learner script run: their
//                                       terraform/aws processes, and the waits
//                                       the lab imposes on them — c3's lock held
//                                       1 s after the pipeline's first plan, the
//                                       -lock-timeout backoff while it waits,
//                                       and the second of the two concurrent
//                                       runs waiting for the first (union: the
//                                       pair runs side by side and counts once).
//
// Everything else is harness overhead: Node and Jest start-up, copying the
// submission and workspaces, creating/deleting buckets and tables, preparing
// the sandbox, polling for events, assembling results, process teardown.
function computeFloor(result: GradeResult, sampler: TreeSampler): Floor {
  const traced = [...sampler.terraform.values()];
  const harness = traced.filter((t) => t.role === 'harness' && t.args[0] !== 'version');
  const probes = traced.filter((t) => t.role === 'harness' && t.args[0] === 'version');
  const timeline = result.timeline ?? [];
  let heldMs = 0;
  for (const challenge of [1, 2, 3]) {
    let heldAt: number | undefined;
    for (const event of timeline.filter((e) => e.challenge === challenge)) {
      if (event.kind === 'lock-held') heldAt = event.at_ms;
      if (event.kind === 'lock-released' && heldAt !== undefined) {
        heldMs += event.at_ms - heldAt;
        heldAt = undefined;
      }
    }
  }
  const starts = timeline.filter((e) => e.kind === 'script-start');
  const intervals: Array<[number, number]> = [];
  for (const script of result.scripts ?? []) {
    const start = starts.find((e) => e.challenge === script.challenge && e.detail === script.script);
    if (start) intervals.push([start.at_ms, start.at_ms + script.duration_ms]);
  }
  const harnessTerraformMs = harness.reduce((sum, t) => sum + sampler.durationOf(t), 0);
  const scriptsMs = unionLength(intervals);
  return {
    floorMs: harnessTerraformMs - heldMs + scriptsMs,
    harnessTerraformMs,
    harnessTerraformCount: harness.length,
    heldMs,
    scriptsMs,
    learnerTerraformCount: traced.filter((t) => t.role === 'learner').length,
    versionProbeMs: probes.reduce((sum, t) => sum + sampler.durationOf(t), 0),
  };
}

// ---------------------------------------------------------------- agreement

function signature(result: GradeResult): Map<string, string> {
  return new Map(result.checks.map((check) => [check.id, `${check.status}:${check.score}`]));
}

interface Agreement {
  gradings: number;
  agreeing: number;
  checks: number;
  agreeingChecks: number;
  /** Every check that differed: which grading, expected (status:score), got, and its feedback. */
  differences: Array<{ grading: string; check: string; expected: string; got: string; feedback: string }>;
}

/** Each check's most common status:score over the sequential gradings (one flaky run cannot become the reference). */
function consensus(results: GradeResult[]): Map<string, string> {
  const votes = new Map<string, Map<string, number>>();
  for (const result of results) {
    for (const [id, value] of signature(result)) {
      const counts = votes.get(id) ?? new Map<string, number>();
      counts.set(value, (counts.get(value) ?? 0) + 1);
      votes.set(id, counts);
    }
  }
  return new Map([...votes].map(([id, counts]) => [id, [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '']));
}

function agreement(expected: Map<string, string>, others: Array<{ name: string; result: GradeResult }>): Agreement {
  const found: Agreement = { gradings: others.length, agreeing: 0, checks: 0, agreeingChecks: 0, differences: [] };
  for (const { name, result } of others) {
    let all = signature(result).size === expected.size;
    for (const check of result.checks) {
      const got = `${check.status}:${check.score}`;
      found.checks += 1;
      if (expected.get(check.id) === got) found.agreeingChecks += 1;
      else {
        all = false;
        found.differences.push({ grading: name, check: check.id, expected: expected.get(check.id) ?? 'absent', got, feedback: check.feedback });
      }
    }
    if (all) found.agreeing += 1;
  }
  return found;
}

function printDifferences(found: Agreement | undefined): void {
  for (const d of found?.differences ?? []) console.log(`      ${d.grading} ${d.check}: expected ${d.expected}, got ${d.got} — ${d.feedback.split('\n')[0]}`);
}

// ---------------------------------------------------------------- the bench

function positiveInt(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new Error(`${flag} takes a whole number >= 1 (got "${value}")`);
  return number;
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      buffer += chunk;
      const newline = buffer.indexOf('\n');
      if (newline >= 0) resolve(buffer.slice(0, newline));
    });
    child.once('close', (code) => reject(new Error(`serve-backend exited ${code} before printing its endpoints`)));
  });
}

async function backendStarts(count: number, env: NodeJS.ProcessEnv): Promise<{ coldMs: number[]; readyMs: number[]; warmMs: number[] }> {
  const coldMs: number[] = [];
  const readyMs: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const spawned = performance.now();
    const child = spawn(...lockgraderCommand(['serve-backend']), { env, stdio: ['ignore', 'pipe', 'inherit'] });
    const closed = new Promise((resolve) => child.once('close', resolve));
    const line = JSON.parse(await firstLine(child)) as { start_ms: number };
    readyMs.push(performance.now() - spawned);
    coldMs.push(line.start_ms);
    child.kill('SIGTERM');
    await closed;
  }
  const warmMs: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const backend = await startEmbeddedBackend();
    warmMs.push(backend.startMs);
    await backend.stop();
  }
  return { coldMs, readyMs, warmMs };
}

interface FullRun {
  run: number | 'cold';
  exitCode: number | null;
  status: string;
  score: string;
  wallMs: number;
  durationMs: number;
  jestStartMs: number;
  peakRssMb: number;
  floor: Floor;
  ratio: number;
  samplerCpuPercent: number;
  tempLeft: number;
  peakByName: Array<{ name: string; mb: number; count: number }>;
}

async function fullGrading(run: number | 'cold', work: string, env: NodeJS.ProcessEnv, terraformComm: string, jestCache: string): Promise<{ row: FullRun; result?: GradeResult }> {
  // A private TMPDIR: lockgrader's temp folders for this grading only, so the
  // first suite's folder is unambiguous (and leftovers can be counted). Jest's
  // transform cache (normally /tmp/jest_<uid>) is linked to one cache shared by
  // the bench's runs: empty for the "cold" run, warm for the measured ones, as
  // on a machine that has graded before.
  const tmp = path.join(work, `tmp-${run}`);
  await mkdir(tmp, { recursive: true });
  await symlink(jestCache, path.join(tmp, JEST_CACHE_NAME));
  const json = path.join(work, `run-${run}.json`);
  let firstSuiteAt: number | undefined;
  // The suite's folder is "c<N>-*" inside the grading's "lockgrader-run-*" folder.
  const watcher = watch(tmp, { recursive: true }, (_event, name) => {
    if (firstSuiteAt === undefined && name && /^lockgrader-run-[^/]+\/c\d-[^/]+$/.test(String(name))) firstSuiteAt = performance.now();
  });
  const child = await runLockgrader(['grade', REFERENCE, '--json', json, '--quiet'], { env: { ...env, TMPDIR: tmp }, terraformComm });
  watcher.close();
  const result = JSON.parse(await readFile(json, 'utf8').catch(() => 'null')) as GradeResult | null;
  const floor = result ? computeFloor(result, child.sampler) : ({ floorMs: Number.NaN } as Floor);
  const row: FullRun = {
    run,
    exitCode: child.exitCode,
    status: result?.status ?? `no results (exit ${child.exitCode}): ${child.stderr.trim().split('\n').slice(-2).join(' | ')}`,
    score: result ? `${result.score}/${result.max_score}` : '-',
    wallMs: child.wallMs,
    durationMs: result?.duration_ms ?? Number.NaN,
    jestStartMs: firstSuiteAt === undefined ? Number.NaN : firstSuiteAt - child.spawnedAt,
    peakRssMb: child.peakRssKb / 1024,
    floor,
    ratio: child.wallMs / floor.floorMs,
    samplerCpuPercent: (child.sampler.cpuMicros / 1000 / child.wallMs) * 100,
    tempLeft: (await readdir(tmp)).filter((name) => name !== JEST_CACHE_NAME).length,
    peakByName: [...child.sampler.peakByName]
      .map(([name, value]) => ({ name, mb: round(value.kb / 1024, 1), count: value.count }))
      .sort((a, b) => b.mb - a.mb),
  };
  return { row, ...(result ? { result } : {}) };
}

interface ManyRun {
  concurrency: number;
  gradings: number;
  exitCode: number | null;
  wallMs: number;
  perMinute: number;
  peakRssMb: number;
  agreement: Agreement;
  /** grade-many's own lines (one per submission, and its summary). */
  lines: string[];
}

async function gradeMany(
  concurrency: number,
  copies: string[],
  work: string,
  env: NodeJS.ProcessEnv,
  terraformComm: string,
  jestCache: string,
  baseline: Map<string, string> | undefined,
): Promise<ManyRun> {
  const out = path.join(work, `many-${concurrency}`);
  const tmp = path.join(work, `tmp-many-${concurrency}`);
  await mkdir(tmp, { recursive: true });
  await symlink(jestCache, path.join(tmp, JEST_CACHE_NAME));
  const child = await runLockgrader(['grade-many', ...copies, '--concurrency', String(concurrency), '--out', out], { env: { ...env, TMPDIR: tmp }, terraformComm });
  const results: Array<{ name: string; result: GradeResult }> = [];
  for (const copy of copies) {
    const name = path.basename(copy);
    const text = await readFile(path.join(out, `${name}.json`), 'utf8').catch(() => undefined);
    if (text) results.push({ name, result: JSON.parse(text) as GradeResult });
  }
  const agreed: Agreement = baseline ? agreement(baseline, results) : { gradings: 0, agreeing: 0, checks: 0, agreeingChecks: 0, differences: [] };
  // Gradings that wrote no results count as disagreeing.
  agreed.gradings = copies.length;
  return {
    concurrency,
    gradings: copies.length,
    exitCode: child.exitCode,
    wallMs: child.wallMs,
    perMinute: (copies.length * 60_000) / child.wallMs,
    peakRssMb: child.peakRssKb / 1024,
    agreement: agreed,
    lines: child.stdout.trim().split('\n'),
  };
}

const s = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : 'n/a');
const verdict = (ok: boolean): string => (ok ? 'PASS' : 'MISS');

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { runs: { type: 'string' }, json: { type: 'string' }, copies: { type: 'string' }, levels: { type: 'string' }, 'backend-starts': { type: 'string' } },
  });
  const runs = positiveInt('--runs', values.runs, 5);
  const copiesCount = positiveInt('--copies', values.copies, 4);
  const starts = positiveInt('--backend-starts', values['backend-starts'], 10);
  const levels = (values.levels ?? '1,2,4').split(',').map((level) => positiveInt('--levels', level.trim(), 1));

  const terraform = await locateTerraform();
  const terraformComm = path.basename(terraform.path).slice(0, 15);
  const env: NodeJS.ProcessEnv = { ...process.env, LOCKGRADER_TERRAFORM: terraform.path };
  delete env.LOCKGRADER_CONTEXT;
  const work = await mkdtemp(path.join(tmpdir(), 'lockgrader-bench-'));
  const cores = (await import('node:os')).availableParallelism();
  console.log(`bench: ${terraform.flavour} ${terraform.version} (${terraform.path}), node ${process.version}, ${cores} cores; ${runs} full gradings, grade-many at ${levels.join(', ')} on ${copiesCount} copies`);

  try {
    // 1. backend start
    const backend = await backendStarts(starts, env);
    console.log(`\nembedded backend start, ${starts} times: cold (fresh process) median ${s(median(backend.coldMs))}, max ${s(Math.max(...backend.coldMs))}; ` +
      `serve-backend ready (spawn -> endpoints printed) median ${s(median(backend.readyMs))}; warm (in-process) median ${s(median(backend.warmMs))}`);

    // 2. full gradings
    console.log(`\nfull gradings of the reference (3 challenges, own embedded backend):`);
    console.log(' run  status   score    wall   floor  wall/floor  harness-tf  held   scripts  jest-start  peak RSS  sampler CPU  temp left');
    const rows: FullRun[] = [];
    const results: GradeResult[] = [];
    const jestCache = path.join(work, 'jest-cache');
    await mkdir(jestCache);
    let cold: FullRun | undefined;
    for (let run = 0; run <= runs; run += 1) {
      // Run 0 starts with an empty Jest transform cache (a fresh container); it is shown, not counted.
      const { row, result } = await fullGrading(run === 0 ? 'cold' : run, work, env, terraformComm, jestCache);
      if (run === 0) cold = row;
      else {
        rows.push(row);
        if (result) results.push(result);
      }
      const f = row.floor;
      console.log(
        `${String(row.run).padStart(4)}  ${row.status.padEnd(7)} ${row.score.padStart(7)} ${s(row.wallMs).padStart(7)} ${s(f.floorMs).padStart(7)} ${row.ratio.toFixed(2).padStart(10)}  ` +
          `${`${s(f.harnessTerraformMs)} (${f.harnessTerraformCount})`.padStart(10)} ${s(f.heldMs).padStart(7)} ${s(f.scriptsMs).padStart(8)} ${s(row.jestStartMs).padStart(10)}  ` +
          `${`${row.peakRssMb.toFixed(0)} MB`.padStart(8)}  ${`${row.samplerCpuPercent.toFixed(1)} %`.padStart(11)}  ${String(row.tempLeft).padStart(9)}`,
      );
    }
    const baseline = results.length > 0 ? consensus(results) : undefined;
    const repeatAgreement = baseline ? agreement(baseline, results.map((result, index) => ({ name: `run ${index + 1}`, result }))) : undefined;
    printDifferences(repeatAgreement);

    // 3. throughput
    const copiesRoot = path.join(work, 'copies');
    const copies: string[] = [];
    for (let i = 1; i <= copiesCount; i += 1) {
      const copy = path.join(copiesRoot, `reference-${i}`);
      await cp(REFERENCE, copy, { recursive: true });
      copies.push(copy);
    }
    console.log(`\ngrade-many on ${copiesCount} copies of the reference (one shared embedded backend):`);
    console.log('concurrency  exit     wall  gradings/min  peak RSS  agree with the sequential gradings (per-check majority)');
    const many: ManyRun[] = [];
    for (const level of levels) {
      const row = await gradeMany(level, copies, work, env, terraformComm, jestCache, baseline);
      many.push(row);
      console.log(
        `${String(level).padStart(11)}  ${String(row.exitCode).padStart(4)} ${s(row.wallMs).padStart(8)} ${row.perMinute.toFixed(1).padStart(13)} ${`${row.peakRssMb.toFixed(0)} MB`.padStart(9)}  ` +
          `${row.agreement.agreeing}/${row.agreement.gradings} gradings, ${row.agreement.agreeingChecks}/${row.agreement.checks} checks`,
      );
      printDifferences(row.agreement);
    }

    // summary and targets
    const wall = median(rows.map((r) => r.wallMs));
    const floor = median(rows.map((r) => r.floor.floorMs));
    const ratio = median(rows.map((r) => r.ratio));
    const coldMax = Math.max(...backend.coldMs);
    const rssMax = Math.max(...rows.map((r) => r.peakRssMb));
    const rssMaxRow = rows.find((r) => r.peakRssMb === rssMax);
    const jest = median(rows.map((r) => r.jestStartMs));
    const sequentialPerMinute = 60_000 / wall;
    console.log('\nsummary (medians over the runs)');
    console.log(`  full grading wall        ${s(wall)}  (results duration_ms ${s(median(rows.map((r) => r.durationMs)))}); ${sequentialPerMinute.toFixed(1)} gradings/minute one at a time`);
    console.log(`  floor                    ${s(floor)}  = harness terraform ${s(median(rows.map((r) => r.floor.harnessTerraformMs)))} − held ${s(median(rows.map((r) => r.floor.heldMs)))} + learner scripts ${s(median(rows.map((r) => r.floor.scriptsMs)))}`);
    console.log(`  wall / floor             ${ratio.toFixed(2)}  (overhead ${s(wall - floor)})`);
    console.log(`  Jest start-up            ${s(jest)}  (spawn -> first suite; includes node boot, imports, submission copy, version probes ${s(median(rows.map((r) => r.floor.versionProbeMs)))}, backend start)`);
    console.log(`  embedded backend start   median ${s(median(backend.coldMs))}, max ${s(coldMax)} (cold)`);
    console.log(`  Jest start-up, cold      ${s(cold?.jestStartMs ?? Number.NaN)}  (empty Jest transform cache, run "cold"); its wall ${s(cold?.wallMs ?? Number.NaN)}`);
    console.log(`  peak RSS of a grading    max ${rssMax.toFixed(0)} MB, median ${median(rows.map((r) => r.peakRssMb)).toFixed(0)} MB (whole process tree, backend included)`);
    console.log(`    at the peak            ${(rssMaxRow?.peakByName ?? []).slice(0, 6).map((p) => `${p.name} ×${p.count} ${p.mb.toFixed(0)} MB`).join(', ')}`);
    console.log(`  repeat agreement         ${repeatAgreement ? `${repeatAgreement.agreeing}/${repeatAgreement.gradings} sequential gradings agree with their per-check majority on every check` : 'n/a'}`);
    console.log('targets');
    console.log(`  ${verdict(ratio <= TARGET_RATIO)}  full grading within ${TARGET_RATIO}x floor: ${ratio.toFixed(2)}x`);
    console.log(`  ${verdict(coldMax < TARGET_BACKEND_MS)}  embedded backend start < ${TARGET_BACKEND_MS / 1000} s: max ${s(coldMax)}`);
    console.log(`  ${verdict(rssMax < TARGET_RSS_MB)}  peak RSS < ${TARGET_RSS_MB} MB: ${rssMax.toFixed(0)} MB`);

    const report = {
      bench: 'lockgrader',
      at: new Date().toISOString(),
      terraform: { binary: terraform.flavour, version: terraform.version, path: terraform.path },
      node: process.version,
      cores,
      runs,
      full_grading: {
        wall_ms_median: round(wall),
        duration_ms_median: round(median(rows.map((r) => r.durationMs))),
        floor_ms_median: round(floor),
        ratio_median: round(ratio, 3),
        jest_startup_ms_median: round(jest),
        jest_startup_ms_cold_cache: round(cold?.jestStartMs ?? Number.NaN),
        wall_ms_cold_cache: round(cold?.wallMs ?? Number.NaN),
        peak_rss_by_process: rssMaxRow?.peakByName,
        peak_rss_mb_max: round(rssMax, 1),
        peak_rss_mb_median: round(median(rows.map((r) => r.peakRssMb)), 1),
        repeat_agreement: repeatAgreement,
        runs: rows.map((r) => ({
          run: r.run,
          exit: r.exitCode,
          status: r.status,
          score: r.score,
          wall_ms: round(r.wallMs),
          duration_ms: r.durationMs,
          floor_ms: round(r.floor.floorMs),
          ratio: round(r.ratio, 3),
          harness_terraform_ms: round(r.floor.harnessTerraformMs),
          harness_terraform_processes: r.floor.harnessTerraformCount,
          held_ms: round(r.floor.heldMs),
          scripts_ms: round(r.floor.scriptsMs),
          learner_terraform_processes: r.floor.learnerTerraformCount,
          version_probe_ms: round(r.floor.versionProbeMs),
          jest_startup_ms: round(r.jestStartMs),
          peak_rss_mb: round(r.peakRssMb, 1),
          sampler_cpu_percent: round(r.samplerCpuPercent, 1),
          temp_left: r.tempLeft,
        })),
      },
      backend_start: {
        cold_ms_median: round(median(backend.coldMs), 1),
        cold_ms_max: round(coldMax, 1),
        ready_ms_median: round(median(backend.readyMs), 1),
        warm_ms_median: round(median(backend.warmMs), 1),
        cold_ms: backend.coldMs.map((v) => round(v, 1)),
      },
      grade_many: many.map((m) => ({
        concurrency: m.concurrency,
        gradings: m.gradings,
        exit: m.exitCode,
        wall_ms: round(m.wallMs),
        gradings_per_minute: round(m.perMinute, 1),
        peak_rss_mb: round(m.peakRssMb, 1),
        agreement: m.agreement,
        lines: m.lines,
      })),
      targets: {
        ratio: { target: TARGET_RATIO, value: round(ratio, 3), pass: ratio <= TARGET_RATIO },
        backend_start_ms: { target: TARGET_BACKEND_MS, value: round(coldMax, 1), pass: coldMax < TARGET_BACKEND_MS },
        peak_rss_mb: { target: TARGET_RSS_MB, value: round(rssMax, 1), pass: rssMax < TARGET_RSS_MB },
      },
    };
    const line = JSON.stringify(report);
    if (values.json) {
      await mkdir(path.dirname(path.resolve(values.json)), { recursive: true });
      await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
    }
    console.log(line);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
