// The --debugAddr server of `diego bbs` and `diego receptor`: process figures and the log level at run time.
import { Writable } from 'node:stream';
import pino from 'pino';
import { startDebugServer, type RunningServer } from '@diego/server-support';

function capturingLogger(): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const root = pino({ level: 'info' }, sink);
  return { logger: root.child({ component: 'bbs' }), lines: () => lines };
}

describe('debug server', () => {
  let debug: RunningServer;
  let captured: ReturnType<typeof capturingLogger>;

  beforeEach(async () => {
    captured = capturingLogger();
    debug = await startDebugServer('127.0.0.1:0', captured.logger);
  });
  afterEach(() => debug.stop());

  it('serves the process figures at /debug/vars', async () => {
    const res = await fetch(`http://${debug.address}/debug/vars`);
    expect(res.status).toBe(200);
    const vars = (await res.json()) as Record<string, unknown>;
    expect(vars).toMatchObject({ pid: process.pid, log_level: 'info', memory: { rss: expect.any(Number) } });
  });

  it('changes the log level of the whole process with PUT /log-level, children included', async () => {
    const child = captured.logger.child({ session: 'etcd-db' });
    child.debug('before-the-change');
    const res = await fetch(`http://${debug.address}/log-level`, { method: 'PUT', body: 'debug\n' });
    expect(res.status).toBe(204);
    child.debug('after-the-change');
    const messages = captured.lines().map((line) => line.msg);
    expect(messages).not.toContain('before-the-change');
    expect(messages).toContain('after-the-change');
    expect(messages).toContain('log-level-changed');
  });

  it('refuses an unknown level and leaves the level as it was', async () => {
    const res = await fetch(`http://${debug.address}/log-level`, { method: 'POST', body: 'chatty' });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/invalid log level/);
    expect(captured.logger.level).toBe('info');
  });

  it('answers 404 for other paths and 405 for a wrong method', async () => {
    expect((await fetch(`http://${debug.address}/debug/pprof`)).status).toBe(404);
    expect((await fetch(`http://${debug.address}/debug/vars`, { method: 'DELETE' })).status).toBe(405);
  });
});
