// The error table's branches that no HTTP request can reach today (the router never lets an empty or slashed
// domain through; the BBS never sends InvalidDomain), and the fall-backs every route shares.
import { BbsError } from '@diego/models';
import { errorReplyFor, indexNotANumber } from './errors';

describe('errorReplyFor', () => {
  it('maps a refused domain on UpsertDomain to 400 InvalidDomain with the BBS message', () => {
    for (const type of ['InvalidRequest', 'InvalidDomain'] as const) {
      expect(errorReplyFor('UpsertDomain', new BbsError(type, 'Invalid field: domain'), { domain: 'a' })).toEqual({
        status: 400, body: 'envelope', name: 'InvalidDomain', message: 'Invalid field: domain',
      });
    }
  });

  it('maps InvalidJSON to 400 InvalidJSON on any route', () => {
    expect(errorReplyFor('UpdateDesiredLRP', new BbsError('InvalidJSON', 'unexpected end of JSON input'), {})).toEqual({
      status: 400, body: 'envelope', name: 'InvalidJSON', message: 'unexpected end of JSON input',
    });
  });

  it('answers anything unmapped as 500 UnknownError with its message, a thrown non-error too', () => {
    expect(errorReplyFor('GetTask', new BbsError('InvalidRecord', 'invalid task record'), {})).toEqual({
      status: 500, body: 'envelope', name: 'UnknownError', message: 'invalid task record',
    });
    expect(errorReplyFor(null, new Error('boom'), {})).toEqual({
      status: 500, body: 'envelope', name: 'UnknownError', message: 'boom',
    });
  });

  it('answers every failure of the event stream with an empty 500', () => {
    expect(errorReplyFor('EventStream', new BbsError('Unavailable'), {})).toEqual({ status: 500, body: 'empty' });
  });

  it('passes a receptor error its own reply, whatever the route', () => {
    expect(errorReplyFor('ActualLRPByProcessGuidAndIndex', indexNotANumber(), {})).toEqual({
      status: 400, body: 'envelope', name: 'InvalidRequest', message: 'index not a number',
    });
  });
});
