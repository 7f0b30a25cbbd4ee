/**
 * @module runtime/connection-owner
 * Which processes a TCP connection to the server comes from (Linux): the kernel's socket table
 * names the inode of the connecting socket, and a process holds that inode as `socket:[N]` among its
 * file descriptors. A sandbox's Runtime API answers only connections held by the sandbox's own processes.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { Socket } from 'node:net';

/** Columns of /proc/net/tcp: local address, remote address, inode. */
const LOCAL = 1;
const REMOTE = 2;
const INODE = 9;

/** `127.0.0.1:port` as /proc/net/tcp writes it: the address in host (little-endian) byte order, both in hex. */
function procAddress(address: string, port: number): string | undefined {
  const octets = address.replace(/^::ffff:/, '').split('.').map(Number);
  if (octets.length !== 4 || octets.some((octet) => !Number.isInteger(octet))) return undefined;
  const hex = octets.reverse().map((octet) => octet.toString(16).padStart(2, '0')).join('').toUpperCase();
  return `${hex}:${port.toString(16).padStart(4, '0').toUpperCase()}`;
}

/** The inode of the client end of `socket` (an accepted loopback connection), or undefined when the table does not show it. */
function clientInode(socket: Socket): string | undefined {
  const { remoteAddress, remotePort, localAddress, localPort } = socket;
  if (remoteAddress === undefined || remotePort === undefined || localAddress === undefined || localPort === undefined) return undefined;
  const client = procAddress(remoteAddress, remotePort);
  const server = procAddress(localAddress, localPort);
  if (client === undefined || server === undefined) return undefined;
  let table: string;
  try {
    table = readFileSync('/proc/net/tcp', 'latin1');
  } catch {
    return undefined;
  }
  for (const line of table.split('\n')) {
    const columns = line.trim().split(/\s+/);
    if (columns[LOCAL] === client && columns[REMOTE] === server) return columns[INODE];
  }
  return undefined;
}

/** Whether the connecting end of `socket` is held by one of `pids` (processes of one sandbox). */
export function connectionHeldBy(socket: Socket, pids: readonly number[]): boolean {
  const inode = clientInode(socket);
  if (inode === undefined || inode === '0') return false;
  const link = `socket:[${inode}]`;
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === link) return true;
      } catch {
        // Closed while looked at.
      }
    }
  }
  return false;
}
