// One bin/lockgrader child, as a user runs it, with its whole process tree
// sampled from /proc (sampler.ts) until it exits.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { lockgraderCommand } from '../../src/cli-command.ts';
import { printPeak } from './print.ts';
import { TreeSampler } from './sampler.ts';

export interface SampledRun {
  exitCode: number | null;
  wallMs: number;
  peakRssMb: number;
  peakPssMb: number;
  peakProcesses: number;
  /** What made up the peak, by process name. */
  peak: string;
  /** What made up the PSS peak, by process name. */
  peakPss: string;
  /** The whole machine's CPU busy while it ran, as a share of all cores (from /proc/stat). */
  machineBusy: number;
  stdout: string;
}

/** Runs `lockgrader ARGS`; stderr goes to this process's stderr when `showStderr`, else is drained. */
export function runSampled(args: string[], options: { showStderr?: boolean; sampleMs?: number } = {}): Promise<SampledRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(...lockgraderCommand(args), { stdio: ['ignore', 'pipe', options.showStderr ? 'inherit' : 'pipe'] });
    if (child.pid === undefined) {
      child.once('error', reject);
      return;
    }
    const sampler = new TreeSampler(child.pid, options.sampleMs);
    const before = cpuTicks();
    let stdout = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.resume();
    child.once('close', (code) => {
      sampler.stop();
      resolve({
        exitCode: code,
        wallMs: performance.now() - started,
        peakRssMb: sampler.peakRssKb / 1024,
        peakPssMb: sampler.peakPssKb / 1024,
        peakProcesses: sampler.peakProcesses,
        peak: printPeak(sampler.peakByName),
        peakPss: printPeak(sampler.peakPssByName),
        machineBusy: busyShare(before, cpuTicks()),
        stdout,
      });
    });
  });
}

/** The machine's total and idle CPU ticks (/proc/stat's first line; idle includes iowait). */
function cpuTicks(): { total: number; idle: number } {
  const fields = (readFileSync('/proc/stat', 'latin1').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0);
  return { total, idle: (fields[3] ?? 0) + (fields[4] ?? 0) };
}

function busyShare(before: { total: number; idle: number }, after: { total: number; idle: number }): number {
  const total = after.total - before.total;
  return total > 0 ? 1 - (after.idle - before.idle) / total : 0;
}
