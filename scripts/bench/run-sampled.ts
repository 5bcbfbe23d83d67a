// One bin/lockgrader child, as a user runs it, with its whole process tree
// sampled from /proc (sampler.ts) until it exits.
import { spawn } from 'node:child_process';
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
  stdout: string;
}

/** Runs `lockgrader ARGS`; stderr goes to this process's stderr when `showStderr`, else is drained. */
export function runSampled(args: string[], options: { showStderr?: boolean } = {}): Promise<SampledRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(...lockgraderCommand(args), { stdio: ['ignore', 'pipe', options.showStderr ? 'inherit' : 'pipe'] });
    if (child.pid === undefined) {
      child.once('error', reject);
      return;
    }
    const sampler = new TreeSampler(child.pid);
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
        stdout,
      });
    });
  });
}
