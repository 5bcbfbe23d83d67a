// Which process sent the requests of a relay connection, traced from outside
// the sandbox. The User-Agent can be claimed by any program, and "a real
// terraform was alive in the run" is true of one that was started and then
// frozen (SIGSTOP) or pointed at a dead endpoint while another program sent
// requests in its name. The kernel knows who holds each socket:
//
//   relay <- grader's unix socket (port-forward.ts) <- socat child in the sandbox (its unix peer: `ss -xn`,
//   sock_diag) <- that child's accepted TCP socket <- the client's TCP socket (the sandbox's /proc/net/tcp)
//   <- the one process holding it (/proc/PID/fd)
//
// The socat child must be the launcher's forwarder (the system socat, its exact
// arguments, no LD_* variables): a program of the learner's in its place could
// forward anything. The client socket must be held by one process that opened
// it itself: close-on-exec set (/proc/PID/fdinfo flags). A socket opened by a
// shell (`exec 5<>/dev/tcp/...`) and inherited by a terraform it then starts
// has no close-on-exec (else exec would have closed it), so the shell's bytes
// cannot pass for terraform's; Go opens its sockets with SOCK_CLOEXEC.
// A connection is traced once, at its first request: what keeps another
// process from sending on terraform's socket later (pidfd_getfd, ptrace,
// /proc/PID/mem) is the sandbox's seccomp filter and read-only /proc
// (seccomp.ts, sandbox.ts).
import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import type { Socket } from 'node:net';
import { querySsUnix, type RunSockets } from './sandbox-sockets.ts';

/**
 * The process that sent a connection's requests, as traced here (the backend log keeps it as its TracedSender:
 * the same shape, declared there because a learner run knows nothing of evidence). `terraform` is true only when
 * that process is the real terraform/tofu binary; `pid` is set whenever one process was found.
 */
export interface TracedSender {
  terraform: boolean;
  pid?: number;
  /** For feedback, after "sent by": 'terraform (pid 41)', 'curl (pid 57)', 'a process the grader could not trace (...)', ... */
  detail: string;
}

/** O_CLOEXEC as /proc/PID/fdinfo shows it (octal flags). */
const O_CLOEXEC = 0o2000000;

export interface TcpEntry {
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  state: number;
  inode: number;
}

/** IPv4 "0100007F:1F40" as "127.0.0.1" and 8000. */
function hexEndpoint(text: string): { address: string; port: number } {
  const [address = '', port = ''] = text.split(':');
  const bytes = address.match(/../g) ?? [];
  return { address: bytes.reverse().map((byte) => String(parseInt(byte, 16))).join('.'), port: parseInt(port, 16) };
}

/** The IPv4 sockets of /proc/PID/net/tcp. */
export function parseProcNetTcp(text: string): TcpEntry[] {
  const entries: TcpEntry[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const local = hexEndpoint(fields[1] ?? '');
    const remote = hexEndpoint(fields[2] ?? '');
    entries.push({ localAddress: local.address, localPort: local.port, remoteAddress: remote.address, remotePort: remote.port, state: parseInt(fields[3] ?? '', 16), inode: Number(fields[9]) });
  }
  return entries;
}

/** Whether an fdinfo text has close-on-exec in its flags. */
export function hasCloseOnExec(fdinfo: string): boolean {
  const flags = /^flags:\s*([0-7]+)/m.exec(fdinfo)?.[1];
  return flags !== undefined && (parseInt(flags, 8) & O_CLOEXEC) !== 0;
}

function socketInode(link: string): number | undefined {
  const match = /^socket:\[(\d+)\]$/.exec(link);
  return match ? Number(match[1]) : undefined;
}

/** fd -> socket inode of a process (empty when it is gone). */
function socketsOf(pid: number): Map<number, number> {
  const sockets = new Map<number, number>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return sockets;
  }
  for (const fd of fds) {
    try {
      const inode = socketInode(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (inode !== undefined) sockets.set(Number(fd), inode);
    } catch {
      // closed meanwhile
    }
  }
  return sockets;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'latin1');
  } catch {
    return '';
  }
}

const argvOf = (pid: number) => readText(`/proc/${pid}/cmdline`).split('\0').slice(0, -1);
const nameOf = (pid: number) => readText(`/proc/${pid}/comm`).trim() || `pid ${pid}`;

function sameFile(a: string, b: { dev: number; ino: number } | undefined): boolean {
  if (!b) return false;
  try {
    const info = statSync(a);
    return info.dev === b.dev && info.ino === b.ino;
  } catch {
    return false;
  }
}

export interface SenderContext {
  /** The run: its processes, its sandbox's network namespace and the unix peers there (sandbox-sockets.ts). */
  run: RunSockets;
  /** Whether a pid is the real terraform/tofu binary itself, by inode (the run's process observer). */
  isTerraform(pid: number): boolean;
  /** Whether a pid runs a copy of that binary (same size, another inode): named as such, never credited. */
  isCopy?(pid: number): boolean;
  /** The forwarder's port inside the sandbox (the relay's port number) and its exact argv. */
  port: number;
  forwarderArgv: string[];
  /** dev/inode of the system socat. */
  socat: { dev: number; ino: number } | undefined;
}

const unknown = (why: string): TracedSender => ({ terraform: false, detail: `a process the grader could not trace (${why})` });

/**
 * The process that sends on `inbound` (a connection the port forward accepted from the sandbox); undefined when the
 * grader cannot trace connections here (ss or nsenter missing or refused): then requests carry no sender.
 */
export async function identifySender(inbound: Socket, context: SenderContext): Promise<TracedSender | undefined> {
  const fd = (inbound as unknown as { _handle?: { fd?: number } })._handle?.fd;
  const own = fd === undefined || fd < 0 ? undefined : socketInode(safeReadlink(`/proc/self/fd/${fd}`));
  const { run } = context;
  if (own === undefined || run.root() === undefined) return unknown('the connection was gone');
  const netPid = run.sandboxNetPid();
  if (netPid === undefined) return unknown('the sandbox was gone');
  let peer: number | undefined;
  try {
    peer = (await querySsUnix(netPid)).get(own);
  } catch (error) {
    // The grader's own tools failed (no ss or nsenter here): nothing is known of the sender, which is not the learner's doing.
    void error;
    return undefined;
  }
  if (peer === undefined) return unknown('its forwarder was gone');
  const processes = run.pids().map((pid) => ({ pid, sockets: socketsOf(pid) }));
  const holding = (inode: number) => processes.filter((p) => [...p.sockets.values()].includes(inode));
  const forwarders = holding(peer);
  const forwarder = forwarders[0];
  if (!forwarder) return unknown('its forwarder was gone');
  const trusted =
    forwarders.length === 1 &&
    sameFile(`/proc/${forwarder.pid}/exe`, context.socat) &&
    argvOf(forwarder.pid).join('\0') === context.forwarderArgv.join('\0') &&
    !readText(`/proc/${forwarder.pid}/environ`).split('\0').some((variable) => variable.startsWith('LD_'));
  if (!trusted) {
    return { terraform: false, pid: forwarder.pid, detail: `${nameOf(forwarder.pid)} (pid ${forwarder.pid}), connected to the relay's socket in place of the sandbox's forwarder` };
  }
  // The forwarder's one connection from a client, and that client's socket.
  const table = parseProcNetTcp(readText(`/proc/${forwarder.pid}/net/tcp`));
  const mine = new Set(forwarder.sockets.values());
  const accepted = table.filter((entry) => mine.has(entry.inode) && entry.localPort === context.port && entry.remotePort !== 0);
  if (accepted.length !== 1) return unknown(`the forwarder held ${accepted.length} client connections`);
  const from = accepted[0]!;
  const client = table.find(
    (entry) => entry.localPort === from.remotePort && entry.remotePort === context.port && entry.localAddress === from.remoteAddress && entry.inode !== 0,
  );
  if (!client) return unknown('the client had closed its connection');
  const holders = holding(client.inode);
  const sender = holders[0];
  if (!sender) return unknown('no process held the connection: it was being passed between processes');
  if (holders.length > 1) {
    const names = holders.map((h) => `${nameOf(h.pid)} (pid ${h.pid})`).join(', ');
    return { terraform: false, detail: `one of ${holders.length} processes sharing the connection: ${names}` };
  }
  const name = `${nameOf(sender.pid)} (pid ${sender.pid})`;
  if (!context.isTerraform(sender.pid)) {
    const copy = context.isCopy?.(sender.pid) === true;
    return { terraform: false, pid: sender.pid, detail: copy ? `a copy of the terraform binary, ${name} (a copy is not counted: it may have been patched)` : name };
  }
  const fdNumber = [...sender.sockets.entries()].find(([, inode]) => inode === client.inode)?.[0];
  if (!hasCloseOnExec(readText(`/proc/${sender.pid}/fdinfo/${fdNumber}`))) {
    // No pid: the sender is whoever opened the socket, which is not known. Kept by pid, the connection would be
    // judged by when the grader looked: while the opener still held its copy it is "one of 2 processes sharing"
    // (no pid either), after it closed it the inheritor alone.
    return { terraform: false, detail: `the program that opened the connection ${name} inherited (no close-on-exec: terraform did not open it)` };
  }
  return { terraform: true, pid: sender.pid, detail: name };
}

function safeReadlink(file: string): string {
  try {
    return readlinkSync(file);
  } catch {
    return '';
  }
}
