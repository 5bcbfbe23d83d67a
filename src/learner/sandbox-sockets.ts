// What the sender trace (connection-sender.ts) asks of one learner run, many
// times per run: its processes, a process inside its sandbox's network
// namespace, and the unix socket peers the kernel knows there. Found anew for
// each connection this took two walks of all of /proc per connection; here the
// run's processes come from its control group and the namespace's process is
// kept while it lives. The peers need an `nsenter ss` per connection: sharing
// one snapshot between connections was measured and saved none (terraform's
// connections arrive one after another, each after the last snapshot).
import { execFile } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { descendantsOf } from '../util/proc-tree.ts';

/** Unix stream sockets of `ss -xnH` output: each socket's inode and its peer's. */
export function parseSsUnix(text: string): Map<number, number> {
  const peers = new Map<number, number>();
  for (const line of text.split('\n')) {
    // "u_str ESTAB 0 0 /path/port-1.sock 9245622 * 9245621": the last four fields are local address, inode, peer address, inode.
    const match = /\s(\d+)\s+\S+\s+(\d+)\s*$/.exec(line);
    if (match) peers.set(Number(match[1]), Number(match[2]));
  }
  return peers;
}

/**
 * The unix socket peer of each socket inode in the network namespace of `pid`, from the kernel's sock_diag
 * (iproute2's ss, run there with nsenter). The grader's end of a connection from the sandbox lives in the
 * sandbox's namespace too: the kernel makes the accepted socket in the connecting socket's namespace.
 */
export function querySsUnix(pid: number): Promise<Map<number, number>> {
  return new Promise((resolve, reject) => {
    execFile('nsenter', [`--net=/proc/${pid}/ns/net`, 'ss', '-xnH'], { maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => (error ? reject(error) : resolve(parseSsUnix(stdout))));
  });
}

function safeReadlink(file: string): string {
  try {
    return readlinkSync(file);
  } catch {
    return '';
  }
}

/** One learner run as the sender trace sees it. */
export class RunSockets {
  private readonly rootPid: () => number | undefined;
  private readonly groupPids: (() => number[] | undefined) | undefined;
  private netPid: { pid: number; ns: string } | undefined;

  /**
   * `groupPids`: the run's control group's members (every process of the run, also those that left its tree);
   * without one the run is the root's descendants.
   */
  constructor(rootPid: () => number | undefined, groupPids?: () => number[] | undefined) {
    this.rootPid = rootPid;
    this.groupPids = groupPids;
  }

  root(): number | undefined {
    return this.rootPid();
  }

  /** The run's processes now. */
  pids(): number[] {
    const group = this.groupPids?.();
    if (group && group.length > 0) return group;
    const root = this.rootPid();
    return root === undefined ? [] : descendantsOf(root).map((entry) => entry.pid);
  }

  /** A process of the run inside the sandbox's own network namespace (kept while it lives in that namespace). */
  sandboxNetPid(): number | undefined {
    if (this.netPid && safeReadlink(`/proc/${this.netPid.pid}/ns/net`) === this.netPid.ns) return this.netPid.pid;
    const ours = safeReadlink('/proc/self/ns/net');
    for (const pid of this.pids()) {
      const ns = safeReadlink(`/proc/${pid}/ns/net`);
      if (ns !== '' && ns !== ours) {
        this.netPid = { pid, ns };
        return pid;
      }
    }
    this.netPid = undefined;
    return undefined;
  }
}
