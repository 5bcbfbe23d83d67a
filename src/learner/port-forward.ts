import { once } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import type { TracedSender } from './connection-sender.ts';
import type { ConnectionSenders } from './connection-senders.ts';

/** A loopback port the sandbox may reach, through a unix socket bound into it. */
export interface PortForward {
  port: number;
  socket: string;
}

/** The forwarder the sandbox's launcher runs for a port (argv): socat from 127.0.0.1:port inside to the unix socket. */
export function forwarderArgv(forward: PortForward): string[] {
  return ['socat', `TCP-LISTEN:${forward.port},bind=127.0.0.1,fork,reuseaddr`, `UNIX-CONNECT:${forward.socket}`];
}

/** Who sends on the connections: each outbound connection is registered with a way to trace its sender. */
export interface ForwardTracing {
  senders: ConnectionSenders;
  trace: (inbound: Socket, forward: PortForward) => Promise<TracedSender | undefined>;
}

// Listens on one unix socket per loopback port of the backend and pipes each
// connection to 127.0.0.1:port. Inside the sandbox's own network namespace,
// socat listens on 127.0.0.1:port and connects to the socket: the backend's
// ports are the only network the script has. With tracing, the relay can ask
// which sandbox process sends on each connection (connection-sender.ts).
export async function startPortForwards(ports: number[], dir: string, tracing?: ForwardTracing): Promise<{ forwards: PortForward[]; close(): Promise<void> }> {
  const servers: Server[] = [];
  const forwards: PortForward[] = [];
  for (const port of [...new Set(ports)]) {
    const socket = path.join(dir, `port-${port}.sock`);
    const forward = { port, socket };
    const server = createServer((inbound) => {
      const outbound = createConnection({ host: '127.0.0.1', port });
      if (tracing) {
        outbound.once('connect', () => {
          const local = outbound.localPort;
          if (local === undefined) return;
          tracing.senders.register(local, () => tracing.trace(inbound, forward));
          outbound.once('close', () => tracing.senders.forget(local));
        });
      }
      inbound.pipe(outbound).pipe(inbound);
      const end = () => {
        inbound.destroy();
        outbound.destroy();
      };
      inbound.on('error', end).on('close', end);
      outbound.on('error', end).on('close', end);
    });
    server.listen(socket);
    await once(server, 'listening');
    servers.push(server);
    forwards.push(forward);
  }
  return {
    forwards,
    async close() {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
            }),
        ),
      );
    },
  };
}

/** The loopback ports of endpoint URLs, or undefined when one is not on loopback (then the network cannot be cut). */
export function loopbackPorts(urls: string[]): number[] | undefined {
  const ports: number[] = [];
  for (const url of urls) {
    const parsed = new URL(url);
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname)) return undefined;
    ports.push(Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80)));
  }
  return ports;
}
