/**
 * A container's port reached through the cell's userspace forwarder on 127.0.0.1, with the server in a network
 * namespace the test makes and wires with CellNetwork.attach.
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import pino from 'pino';
import { CellNetwork, countCellNetwork, forwardPort, type ContainerNetwork, type PortForward } from '../../src/executor/linux';
import { startEchoServerIn, startNamespace, type TestProcess } from './namespaces';

const logger = pino({ level: 'silent' });
const asRoot = process.getuid?.() === 0 ? describe : describe.skip;
const CONTAINER_PORT = 8080;

/** Sends `payload`, ends the sending side, and resolves with everything the other side answered before closing. */
async function roundTrip(port: number, payload: Buffer): Promise<Buffer> {
  const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('end', () => socket.destroy());
  // A connection the forwarder drops may end with a reset rather than a FIN: closed either way.
  socket.on('error', () => undefined);
  socket.end(payload);
  await once(socket, 'close');
  return Buffer.concat(chunks);
}

asRoot('forwardPort', () => {
  const cellId = `fwdtest-${process.pid}`;
  let network: CellNetwork;
  let container: TestProcess;
  let server: TestProcess;
  let containerNet: ContainerNetwork;
  let forward: PortForward;

  beforeAll(async () => {
    network = await CellNetwork.open({ cellId, pool: '10.213.3.0/24', logger });
    container = await startNamespace();
    // No egress rule: the answers go out as replies on connections made into the container.
    containerNet = await network.attach('guid-forwarded', container.pid, []);
    server = await startEchoServerIn(container.pid, CONTAINER_PORT);
    forward = await forwardPort({ listenHost: '127.0.0.1', hostPort: 0, targetIp: containerNet.ip, targetPort: CONTAINER_PORT });
  });

  afterAll(async () => {
    await forward.close();
    await server?.stop();
    await container?.stop();
    await containerNet?.release();
    await network?.close();
    expect(await countCellNetwork(cellId)).toEqual({ links: 0, rules: 0 });
  });

  it("answers on 127.0.0.1 with the container's server, after the client half-closed", async () => {
    expect((await roundTrip(forward.hostPort, Buffer.from('hello'))).toString()).toBe('hello');
  });

  it('carries a large payload both ways intact', async () => {
    const payload = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < payload.length; i += 4) payload.writeUInt32LE(i, i);
    expect((await roundTrip(forward.hostPort, payload)).equals(payload)).toBe(true);
  });

  it('closes a client whose container port has no listener', async () => {
    const nowhere = await forwardPort({ listenHost: '127.0.0.1', hostPort: 0, targetIp: containerNet.ip, targetPort: CONTAINER_PORT + 1 });
    try {
      expect((await roundTrip(nowhere.hostPort, Buffer.from('anyone?'))).length).toBe(0);
    } finally {
      await nowhere.close();
    }
  });

  it('close() ends open connections and stops listening', async () => {
    const own = await forwardPort({ listenHost: '127.0.0.1', hostPort: 0, targetIp: containerNet.ip, targetPort: CONTAINER_PORT });
    const open: Socket = connect({ host: '127.0.0.1', port: own.hostPort });
    open.on('error', () => undefined);
    open.write('still talking');
    await once(open, 'connect');
    // A reset or a FIN: either way the client sees its connection close (events.once would reject on the reset).
    const closed = new Promise((resolve) => open.once('close', resolve));

    await own.close();

    await closed;
    const refused = connect({ host: '127.0.0.1', port: own.hostPort });
    const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNREFUSED');
  });
});
