// Hands the relay the sender of each connection the port forward made to it
// (connection-sender.ts). The forward knows the sandbox side of a connection;
// the relay only sees the forward's outbound socket, named by its local port.
// A sender is traced once per connection, when the relay first asks (a request
// has arrived and its client is waiting), and kept for the connection's later
// requests.
import type { TracedSender } from './connection-sender.ts';

/** How long the relay waits for a connection the forward has not registered yet (it registers on connect, before any byte). */
const REGISTER_WAIT_MS = 5_000;

export class ConnectionSenders {
  private readonly traces = new Map<number, () => Promise<TracedSender | undefined>>();
  private readonly waiting = new Map<number, Array<() => void>>();
  private readonly memo = new Map<number, Promise<TracedSender | undefined>>();

  /** The forward's outbound connection from `localPort` carries what `trace` will identify. */
  register(localPort: number, trace: () => Promise<TracedSender | undefined>): void {
    this.memo.delete(localPort);
    this.traces.set(localPort, trace);
    for (const wake of this.waiting.get(localPort) ?? []) wake();
    this.waiting.delete(localPort);
  }

  /** The connection from `localPort` has closed (its port may be reused). */
  forget(localPort: number): void {
    this.traces.delete(localPort);
    this.memo.delete(localPort);
  }

  /** The sender of the connection the relay sees coming from `remotePort`. */
  senderOf(remotePort: number): Promise<TracedSender | undefined> {
    const known = this.memo.get(remotePort);
    if (known) return known;
    const found = this.registered(remotePort).then((trace) =>
      trace ? trace().catch((error: unknown): TracedSender | undefined => ({ terraform: false, detail: `not identified: ${String(error)}` })) : { terraform: false, detail: 'not identified: the connection did not come through the sandbox forward' },
    );
    this.memo.set(remotePort, found);
    return found;
  }

  private registered(port: number): Promise<(() => Promise<TracedSender | undefined>) | undefined> {
    const trace = this.traces.get(port);
    if (trace) return Promise.resolve(trace);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.traces.get(port)), REGISTER_WAIT_MS);
      const list = this.waiting.get(port) ?? [];
      list.push(() => {
        clearTimeout(timer);
        resolve(this.traces.get(port));
      });
      this.waiting.set(port, list);
    });
  }
}
