// A seccomp filter for learner sandboxes (bwrap --seccomp FD): no process of a
// learner run may reach into another one's memory or file descriptors.
//
// Why: the relay traces each connection to the process that sent on it
// (connection-sender.ts), and a connection terraform opened itself counts as
// terraform's. A script that froze a real apply and took copies of its
// sockets with pidfd_getfd (python3, ten lines) sent a hand-made state on
// the apply's own S3 connection and earned 45/45 (fixture
// c2-cheat-stolen-socket). ptrace (gdb, strace -e inject) and
// process_vm_writev reach the same by writing into terraform. These calls
// fail with EPERM; nothing a learner script needs uses them. /proc/PID/mem,
// the other way in, is closed by mounting the sandbox's /proc read-only
// (sandbox.ts).
//
// The filter is a classic BPF program (struct sock_filter: u16 code, u8 jt,
// u8 jf, u32 k, little-endian here): load the architecture, refuse any other
// ABI than the native one (a 32-bit or x32 program would have other syscall
// numbers), load the syscall number, refuse the listed ones, allow the rest.
// Linux on x86_64 and aarch64; elsewhere no filter is made (and the results
// do not claim one).

const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_JSET_K = 0x45;
const BPF_RET_K = 0x06;
const SECCOMP_RET_ALLOW = 0x7fff0000;
const SECCOMP_RET_ERRNO = 0x00050000;
const EPERM = 1;
/** offsetof(struct seccomp_data, arch) and (..., nr). */
const ARCH_OFFSET = 4;
const NR_OFFSET = 0;
const X32_SYSCALL_BIT = 0x40000000;

interface ArchTable {
  audit: number;
  /** ptrace, process_vm_readv, process_vm_writev, pidfd_getfd */
  refused: number[];
  /** x86_64 only: syscall numbers with this bit are the x32 ABI. */
  x32?: boolean;
}

export const REFUSED_CALLS = ['ptrace', 'process_vm_readv', 'process_vm_writev', 'pidfd_getfd'] as const;

const ARCHES: Partial<Record<NodeJS.Architecture, ArchTable>> = {
  x64: { audit: 0xc000003e, refused: [101, 310, 311, 438], x32: true },
  arm64: { audit: 0xc00000b7, refused: [117, 270, 271, 438] },
};

type Instruction = [code: number, jt: number, jf: number, k: number];

/** The syscall numbers the filter refuses on `arch` (in REFUSED_CALLS' order), or undefined where there is no filter. */
export function refusedSyscalls(arch: NodeJS.Architecture = process.arch): number[] | undefined {
  return ARCHES[arch]?.refused;
}

/** The filter's instructions for `arch`, or undefined where there is none. */
export function seccompInstructions(arch: NodeJS.Architecture = process.arch): Instruction[] | undefined {
  const table = ARCHES[arch];
  if (!table) return undefined;
  const checks: Instruction[] = [];
  if (table.x32) checks.push([BPF_JSET_K, 0, 0, X32_SYSCALL_BIT]);
  for (const nr of table.refused) checks.push([BPF_JEQ_K, 0, 0, nr]);
  // Layout: 0 load arch; 1 arch == native ? next : deny; 2 load nr; checks...; allow; deny.
  const program: Instruction[] = [[BPF_LD_W_ABS, 0, 0, ARCH_OFFSET], [BPF_JEQ_K, 0, 0, table.audit], [BPF_LD_W_ABS, 0, 0, NR_OFFSET], ...checks];
  const allow = program.length;
  const deny = allow + 1;
  program.push([BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW], [BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | EPERM]);
  // Jumps are relative to the next instruction: the arch check falls through when native, else goes to deny;
  // each refusal goes to deny when it matches, else falls through.
  program[1] = [BPF_JEQ_K, 0, deny - 2, table.audit];
  for (let at = 3; at < allow; at += 1) {
    const [code, , , k] = program[at]!;
    program[at] = [code, deny - (at + 1), 0, k];
  }
  return program;
}

/** The filter as bwrap --seccomp reads it (an array of struct sock_filter), or undefined where there is none. */
export function seccompProgram(arch: NodeJS.Architecture = process.arch): Buffer | undefined {
  const instructions = seccompInstructions(arch);
  if (!instructions) return undefined;
  const bytes = Buffer.alloc(instructions.length * 8);
  instructions.forEach(([code, jt, jf, k], index) => {
    bytes.writeUInt16LE(code, index * 8);
    bytes.writeUInt8(jt, index * 8 + 2);
    bytes.writeUInt8(jf, index * 8 + 3);
    bytes.writeUInt32LE(k >>> 0, index * 8 + 4);
  });
  return bytes;
}
