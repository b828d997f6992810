/**
 * Network namespaces the tests make themselves (a sleeping process after `unshare --net`, like a container's
 * init), and clients and servers run inside them. Traffic goes only to the cell's bridge address or into these
 * namespaces.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import type { SecurityGroupRule } from '@diego/models';

export interface TestProcess {
  pid: number;
  /** SIGKILLs it and waits for it to exit. */
  stop(): Promise<void>;
}

/** Spawns `command` and resolves once it printed `readyLine`. */
async function startPrinting(command: string, args: string[], readyLine: string): Promise<TestProcess> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let printed = '';
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${command} exited (${code ?? 'signal'}) before printing ${readyLine}`)));
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      printed += chunk;
      if (printed.split('\n').includes(readyLine)) resolve();
    });
  });
  child.removeAllListeners('exit');
  return { pid: child.pid ?? -1, stop: () => stopChild(child) };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** A process sleeping in a network namespace of its own: a container init's stand-in. */
export function startNamespace(): Promise<TestProcess> {
  return startPrinting('unshare', ['--net', '--', 'sh', '-c', 'echo ready; exec sleep 100000 >/dev/null'], 'ready');
}

const ECHO_SERVER = `
  const server = require('net').createServer({ allowHalfOpen: true }, (socket) => {
    const chunks = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => socket.end(Buffer.concat(chunks)));
  });
  server.listen(Number(process.argv[1]), '0.0.0.0', () => console.log('listening'));
`;

/** An echo server (answers what it was sent once the client ends its side) on `port` inside pid's namespace. */
export function startEchoServerIn(pid: number, port: number): Promise<TestProcess> {
  return startPrinting('nsenter', [`--net=/proc/${pid}/ns/net`, process.execPath, '-e', ECHO_SERVER, String(port)], 'listening');
}

/** A server on the host that answers each client with the address it saw and what the client sent. */
export async function startHostServer(host: string): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    let data = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (data += chunk));
    socket.on('end', () => socket.end(`${socket.remoteAddress ?? ''} sent ${data}`));
  });
  server.listen(0, host);
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const CLIENT = `
  const [host, port, timeoutMs] = process.argv.slice(1);
  const socket = require('net').connect({ host, port: Number(port), allowHalfOpen: true });
  const timer = setTimeout(() => { console.log('timeout'); process.exit(0); }, Number(timeoutMs));
  let data = '';
  socket.on('connect', () => socket.end('hello'));
  socket.on('data', (chunk) => (data += chunk));
  socket.on('end', () => { clearTimeout(timer); console.log('answer: ' + data); process.exit(0); });
  socket.on('error', (error) => { clearTimeout(timer); console.log('error: ' + error.code); process.exit(0); });
`;

/** How long a client in a namespace waits for a connection that egress rules drop (they never answer). */
const DROPPED_CONNECT_MS = 1500;

/** Connects from pid's namespace, sends "hello", and says what happened: `answer: ...`, `timeout` or `error: CODE`. */
export async function connectFrom(pid: number, host: string, port: number): Promise<string> {
  const child = spawn('nsenter', [`--net=/proc/${pid}/ns/net`, process.execPath, '-e', CLIENT, host, String(port), String(DROPPED_CONNECT_MS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  await once(child, 'close');
  return output.trim();
}

/** Whether one ping from pid's namespace to host is answered. */
export async function pingFrom(pid: number, host: string): Promise<boolean> {
  const child = spawn('nsenter', [`--net=/proc/${pid}/ns/net`, '/bin/busybox', 'ping', '-c', '1', '-W', '2', host], { stdio: 'ignore' });
  const [code] = (await once(child, 'exit')) as [number | null];
  return code === 0;
}

export const rule = (fields: Partial<SecurityGroupRule>): SecurityGroupRule => ({
  protocol: 'tcp',
  destinations: [],
  ports: [],
  port_range: null,
  icmp_info: null,
  log: false,
  ...fields,
});
