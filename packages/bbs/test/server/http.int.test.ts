/** The wire of the API (spec/bbs.md §4.1) and the client's failover between BBSes. */
import { BbsError, proto } from '@diego/models';
import { HttpBbsClient } from '@diego/bbs-client';
import { deadPort, useBbs } from './bbs-harness';

const bbs = useBbs();

describe('Ping', () => {
  it('answers available', async () => {
    expect(await bbs().client.ping()).toBe(true);
  });

  it('answers 200 protobuf with a Content-Length, whatever body it is sent', async () => {
    const response = await fetch(`${bbs().url}/v1/ping`, { method: 'POST', body: 'not protobuf at all' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-protobuf');
    const body = new Uint8Array(await response.arrayBuffer());
    expect(response.headers.get('content-length')).toBe(String(body.byteLength));
    expect(proto.PingResponse.decode(body).available).toBe(true);
  });

  it('keeps an idle connection open longer than Go clients keep theirs (90 s), so none is reused as it closes', async () => {
    const response = await fetch(`${bbs().url}/v1/ping`, { method: 'POST' });
    await response.arrayBuffer();
    expect(response.headers.get('keep-alive')).toBe('timeout=95');
  });
});

describe('the router', () => {
  it('answers an unknown path with a plain 404', async () => {
    const response = await fetch(`${bbs().url}/v1/nothing/here`, { method: 'POST' });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  });

  it('answers a trailing slash as an unknown path', async () => {
    expect((await fetch(`${bbs().url}/v1/ping/`, { method: 'POST' })).status).toBe(404);
  });

  it('answers a known path with the wrong method 405 and says which method it takes', async () => {
    const response = await fetch(`${bbs().url}/v1/tasks/desire`, { method: 'GET' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });

  it('answers an undecodable body in band with InvalidProtobufMessage, and keeps serving', async () => {
    const garbage = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]);
    const response = await fetch(`${bbs().url}/v1/tasks/desire`, { method: 'POST', body: garbage });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-protobuf');
    const answer = proto.TaskLifecycleResponse.decode(new Uint8Array(await response.arrayBuffer()));
    expect(answer.error?.type).toBe(proto.Error.Type.InvalidProtobufMessage);
    expect(await bbs().client.ping()).toBe(true);
    expect(await bbs().client.tasks()).toEqual([]);
  });

  it('refuses a body over 2 MiB in band with InvalidRequest, storing nothing, and keeps serving', async () => {
    const oversized = new Uint8Array(3 * 1024 * 1024).fill(0x0a);
    const response = await fetch(`${bbs().url}/v1/tasks/desire`, { method: 'POST', body: oversized });
    expect(response.status).toBe(200);
    const answer = proto.TaskLifecycleResponse.decode(new Uint8Array(await response.arrayBuffer()));
    expect(answer.error).toMatchObject({ type: proto.Error.Type.InvalidRequest, message: 'request body exceeds 2097152 bytes' });
    expect(await bbs().client.tasks()).toEqual([]);
    expect(await bbs().client.ping()).toBe(true);
  });
});

describe('HttpBbsClient', () => {
  it('moves to the next BBS when the first cannot be reached', async () => {
    const client = new HttpBbsClient([`http://127.0.0.1:${await deadPort()}`, bbs().url]);
    try {
      await client.upsertDomain('failover-domain', 0);
      expect(await client.domains()).toEqual(['failover-domain']);
    } finally {
      client.close();
    }
  });

  it('rejects with Unavailable when no BBS can be reached', async () => {
    const client = new HttpBbsClient([`http://127.0.0.1:${await deadPort()}`, `http://127.0.0.1:${await deadPort()}`]);
    try {
      const failure = client.ping();
      await expect(failure).rejects.toBeInstanceOf(BbsError);
      await expect(failure).rejects.toMatchObject({ type: 'Unavailable' });
    } finally {
      client.close();
    }
  });

  it('does not move on when a BBS answers with an error', async () => {
    const other = new HttpBbsClient([bbs().url, `http://127.0.0.1:${await deadPort()}`]);
    try {
      await expect(other.taskByGuid('no-such-task')).rejects.toMatchObject({ type: 'ResourceNotFound' });
    } finally {
      other.close();
    }
  });

  it('rejects with InvalidResponse when something that is no BBS answers', async () => {
    const client = new HttpBbsClient([`${bbs().url}/not-the-bbs`]);
    try {
      await expect(client.ping()).rejects.toMatchObject({ type: 'InvalidResponse' });
    } finally {
      client.close();
    }
  });
});
