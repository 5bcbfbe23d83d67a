// Samples a process tree every 20 ms from /proc: the sum of VmRSS over the
// root and all its descendants (terraform, local-exec shells, learner scripts,
// sandboxes, aws), with the peak kept and what made it up.
import { readFileSync } from 'node:fs';
import { descendantsOf, readProcTable } from '../../src/util/proc-tree.ts';

/** How often a single grading is sampled; reading every process's smaps_rollup costs CPU, so grade-many is sampled less often. */
export const SAMPLE_MS = 20;

/** Proportional set size: shared pages (the terraform binary, libraries) divided among the processes sharing them. */
function readPssKb(pid: number): number {
  try {
    const match = /^Pss:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
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

export class TreeSampler {
  peakRssKb = 0;
  /** Peak of the tree's summed PSS: what the grading takes from the machine, shared pages counted once. */
  peakPssKb = 0;
  peakProcesses = 0;
  /** At the peak: RSS and count by process name. */
  peakByName = new Map<string, { kb: number; count: number }>();
  /** At the PSS peak: PSS and count by process name (the terraform binary's pages shared, counted once). */
  peakPssByName = new Map<string, { kb: number; count: number }>();
  private readonly timer: NodeJS.Timeout;
  private readonly rootPid: number;

  constructor(rootPid: number, intervalMs = SAMPLE_MS) {
    this.rootPid = rootPid;
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  private sample(): void {
    const table = readProcTable();
    const root = table.find((entry) => entry.pid === this.rootPid);
    if (!root) return;
    let rss = 0;
    let pss = 0;
    let count = 0;
    const byName = new Map<string, { kb: number; count: number }>();
    const pssByName = new Map<string, { kb: number; count: number }>();
    for (const { pid, comm } of [root, ...descendantsOf(this.rootPid, table)]) {
      const kb = readRssKb(pid);
      const pssKb = readPssKb(pid);
      rss += kb;
      pss += pssKb;
      count += 1;
      const named = byName.get(comm) ?? { kb: 0, count: 0 };
      byName.set(comm, { kb: named.kb + kb, count: named.count + 1 });
      const pssNamed = pssByName.get(comm) ?? { kb: 0, count: 0 };
      pssByName.set(comm, { kb: pssNamed.kb + pssKb, count: pssNamed.count + 1 });
    }
    this.peakProcesses = Math.max(this.peakProcesses, count);
    if (pss > this.peakPssKb) {
      this.peakPssKb = pss;
      this.peakPssByName = pssByName;
    }
    if (rss > this.peakRssKb) {
      this.peakRssKb = rss;
      this.peakByName = byName;
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
