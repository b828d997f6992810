import { BrokenCircuitError } from 'cockatiel';
import { EtcdError, GRPCResourceExhastedError, GRPCUnavailableError } from 'etcd3';
import { BbsError } from '@diego/models';
import pino from 'pino';
import { isHostFailure, isTransientEtcdError, neverReachedEtcd, withEtcdRetries, type AttemptContext } from './faults';

const logger = pino({ level: 'silent' });
const refused = new GRPCUnavailableError('14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1');
const timedOut = new GRPCUnavailableError('14 UNAVAILABLE: etcdserver: request timed out');
const tooLarge = new GRPCResourceExhastedError('8 RESOURCE_EXHAUSTED: grpc: received message larger than max (5400815 vs. 2097152)');

describe('etcd fault classification', () => {
  it('retries etcd`s transient refusals and lost members, never a request refused for itself or a store outcome', () => {
    expect([timedOut, refused, new EtcdError('etcdserver: leader changed'), new BrokenCircuitError()].map(isTransientEtcdError)).toEqual([
      true, true, true, true,
    ]);
    expect([tooLarge, new BbsError('Unavailable', timedOut.message), new BbsError('ResourceExists')].map(isTransientEtcdError)).toEqual([
      false, false, false,
    ]);
  });

  it('counts against a member only what says the member is unwell', () => {
    expect([refused, new GRPCUnavailableError('14 UNAVAILABLE: Connection dropped')].map(isHostFailure)).toEqual([true, true]);
    expect([timedOut, tooLarge, new EtcdError('etcdserver: request is too large')].map(isHostFailure)).toEqual([false, false, false]);
  });

  it('knows a call never reached etcd only when no connection was made', () => {
    expect([refused, new BrokenCircuitError()].map(neverReachedEtcd)).toEqual([true, true]);
    expect([timedOut, new GRPCUnavailableError('14 UNAVAILABLE: Connection dropped')].map(neverReachedEtcd)).toEqual([false, false]);
  });
});

describe('withEtcdRetries', () => {
  it('retries transient failures and tells a later attempt when an earlier one may have been applied', async () => {
    const seen: AttemptContext[] = [];
    const failures = [refused, timedOut];
    const result = await withEtcdRetries(
      'test',
      async (context) => {
        seen.push({ ...context });
        const failure = failures.shift();
        if (failure !== undefined) throw failure;
        return 'done';
      },
      { logger },
    );
    expect(result).toBe('done');
    expect(seen).toEqual([
      { attempt: 1, outcomeUnknown: false },
      { attempt: 2, outcomeUnknown: false },
      { attempt: 3, outcomeUnknown: true },
    ]);
  });

  it('answers Unavailable once transient failures outlast the deadline, and other failures at once, translated', async () => {
    await expect(withEtcdRetries('test', () => Promise.reject(timedOut), { logger, deadlineMs: 200 })).rejects.toMatchObject({
      type: 'Unavailable',
      message: expect.stringContaining('request timed out'),
    });
    await expect(withEtcdRetries('test', () => Promise.reject(tooLarge), { logger })).rejects.toMatchObject({ type: 'InvalidRequest' });
  });
});
