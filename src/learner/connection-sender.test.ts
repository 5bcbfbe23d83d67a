import { describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { hasCloseOnExec, parseProcNetTcp } from './connection-sender.ts';
import { parseSsUnix } from './sandbox-sockets.ts';

describe('what the kernel says of sockets, parsed', () => {
  test('/proc/PID/net/tcp: addresses, ports, state and inode', () => {
    const text = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9245001 1 0000000000000000 100 0 0 10 0',
      '   1: 0100007F:1F40 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 9245003 1 0000000000000000 20 4 30 10 -1',
      '   2: 0100007F:D431 0100007F:1F40 01 00000000:00000000 00:00000000 00000000     0        0 9245002 1 0000000000000000 20 4 30 10 -1',
    ].join('\n');
    expect(parseProcNetTcp(text)).toEqual([
      { localAddress: '127.0.0.1', localPort: 8000, remoteAddress: '0.0.0.0', remotePort: 0, state: 10, inode: 9245001 },
      { localAddress: '127.0.0.1', localPort: 8000, remoteAddress: '127.0.0.1', remotePort: 54321, state: 1, inode: 9245003 },
      { localAddress: '127.0.0.1', localPort: 54321, remoteAddress: '127.0.0.1', remotePort: 8000, state: 1, inode: 9245002 },
    ]);
  });

  test('ss -xnH: each unix socket and its peer, with or without a path', () => {
    const text = ['u_str ESTAB 0      0      /work/tmp/run/port-8000.sock 9328616 * 9328615', 'u_str ESTAB 0      0                            * 9328615 * 9328616', ''].join('\n');
    expect([...parseSsUnix(text)]).toEqual([
      [9328616, 9328615],
      [9328615, 9328616],
    ]);
  });

  test('close-on-exec is read from the octal flags of fdinfo', () => {
    expect(hasCloseOnExec('pos:\t0\nflags:\t02004002\nmnt_id:\t9\nino:\t1\n')).toBe(true);
    expect(hasCloseOnExec('pos:\t0\nflags:\t04002\nmnt_id:\t9\nino:\t1\n')).toBe(false);
    expect(hasCloseOnExec('')).toBe(false);
  });
});

describe('close-on-exec tells a socket a program opened from one it inherited', () => {
  // What the sender trace relies on: Node (like Go) opens its sockets with close-on-exec; a socket a shell opens
  // (exec 5<>/dev/tcp/...) has none, and survives exec into the next program.
  test('a shell-opened socket, inherited by the program it execs, has no close-on-exec; our own has it', async () => {
    const server = createServer((socket) => socket.on('error', () => undefined));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const child = spawn('bash', ['-c', `exec 5<>/dev/tcp/127.0.0.1/${port}; exec sleep 5`], { stdio: 'ignore' });
    try {
      let inherited: string | undefined;
      for (let look = 0; look < 500 && inherited === undefined; look += 1) {
        if (readlinkSync(`/proc/${child.pid}/exe`).endsWith('/sleep')) {
          inherited = readdirSync(`/proc/${child.pid}/fd`).find((fd) => readlinkSync(`/proc/${child.pid}/fd/${fd}`).startsWith('socket:'));
        }
        if (inherited === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(inherited).toBe('5');
      expect(hasCloseOnExec(readFileSync(`/proc/${child.pid}/fdinfo/5`, 'utf8'))).toBe(false);
      const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
      expect(hasCloseOnExec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))).toBe(true);
    } finally {
      child.kill('SIGKILL');
      server.close();
    }
  });
});
