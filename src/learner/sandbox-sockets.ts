// What the sender trace (connection-sender.ts) asks of one learner run, many
// times per run: its processes, a process inside its sandbox's network
// namespace, and the unix socket peers the kernel knows there. Answered once
// per connection this cost ~0.6 s of the grader's CPU per grading (two walks
// of all of /proc and an `nsenter ss` child per connection); here the run's
// processes come from its control group, the namespace's process is kept
// while it lives, and one `ss` snapshot answers every connection it already
// shows.
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

interface Snapshot {
  startedAt: number;
  peers: Promise<Map<number, number>>;
}

/**
 * Unix peers from `ss` snapshots, shared. A unix stream socket's peer never changes once connected and a live
 * socket's inode is unique, so a snapshot that shows a socket answers for it. A socket a snapshot does not show
 * (it was accepted after the snapshot began) gets a new snapshot, begun after the question was asked, which
 * every question asked meanwhile shares.
 */
export class UnixPeerSnapshots {
  private latest: Snapshot | undefined;
  private readonly query: (netPid: number) => Promise<Map<number, number>>;
  private readonly now: () => number;
  /** How many snapshots were taken (for tests and the bench). */
  taken = 0;

  constructor(query: (netPid: number) => Promise<Map<number, number>> = querySsUnix, now: () => number = () => performance.now()) {
    this.query = query;
    this.now = now;
  }

  /** The peer inode of `inode` in the namespace of `netPid`; undefined when the kernel shows no such socket. Rejects when ss cannot run. */
  async peerOf(inode: number, netPid: number): Promise<number | undefined> {
    const askedAt = this.now();
    const seen = this.latest;
    if (seen) {
      const peers = await seen.peers.catch(() => undefined);
      if (peers?.has(inode)) return peers.get(inode);
    }
    // The newest snapshot may have begun while we waited; one begun after the question includes the socket.
    const current = this.latest !== undefined && this.latest.startedAt >= askedAt ? this.latest : this.take(netPid);
    return (await current.peers).get(inode);
  }

  private take(netPid: number): Snapshot {
    this.taken += 1;
    const snapshot = { startedAt: this.now(), peers: this.query(netPid) };
    this.latest = snapshot;
    return snapshot;
  }
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
  readonly peers: UnixPeerSnapshots;
  private readonly rootPid: () => number | undefined;
  private readonly groupPids: (() => number[] | undefined) | undefined;
  private netPid: { pid: number; ns: string } | undefined;

  /**
   * `groupPids`: the run's control group's members (every process of the run, also those that left its tree);
   * without one the run is the root's descendants.
   */
  constructor(rootPid: () => number | undefined, groupPids?: () => number[] | undefined, peers = new UnixPeerSnapshots()) {
    this.rootPid = rootPid;
    this.groupPids = groupPids;
    this.peers = peers;
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
