// Which real terraform/tofu processes can have sent a request. The User-Agent
// names a client kind any program can claim; the process observer says which
// real terraform processes were alive in the run as the request arrived
// (BackendRequest.terraformAlive), and, where the sandbox has its own network,
// the relay says which process sent it (BackendRequest.sender, traced through
// its connection from outside the sandbox). A terraform that was started and
// then frozen (SIGSTOP) or pointed at a dead endpoint is alive, but sends
// nothing: only the sender counts where it is known.
import type { AliveTerraform, BackendRequest } from './backend-log.ts';

/**
 * The real terraform/tofu processes that can have sent `request`: its traced sender when it is the real binary
 * (none when the sender is another program, or a copy of the binary), else every one alive in the run as it
 * arrived; undefined when the run was not watched.
 */
export function possibleSenders(request: BackendRequest): AliveTerraform[] | undefined {
  if (request.terraformAlive === undefined) return undefined;
  // A copy of the binary (same size, another inode) is watched, never credited: it may have been patched.
  const alive = request.terraformAlive.filter((one) => one.copy !== true);
  const { sender } = request;
  if (sender === undefined) return alive;
  return sender.terraform ? alive.filter((one) => one.pid === sender.pid) : [];
}

/** What sent `request` when it was traced and was not a real terraform/tofu, in words for feedback; '' otherwise. */
export function senderNote(request: BackendRequest): string {
  const { sender } = request;
  if (sender === undefined || sender.terraform) return '';
  return ` It was sent by ${sender.detail}, not by a terraform process (the grader traces each connection to its process from outside the sandbox).`;
}
