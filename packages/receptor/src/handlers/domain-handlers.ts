/** Domains (spec/receptor-api.md §3.15, §3.16). */
import { stringifyJson } from '@diego/models';
import type { BbsClient } from '@diego/bbs-client';
import type { Request } from 'express';
import { invalidMaxAge, maxAgeMissing } from '../errors';
import { sendEmpty, sendJson } from '../responses';
import type { Handlers } from './handler';

export type DomainHandlers = Pick<Handlers, 'UpsertDomain' | 'Domains'>;

const MAX_AGE_PREFIX = 'max-age=';
const GO_INT = /^[+-]?\d+$/;
/** The BBS keeps a domain's TTL in uint32 seconds. */
const MAX_TTL_SECONDS = 2 ** 32 - 1;

/**
 * The freshness TTL from the raw Cache-Control header lines, not their comma-joined value: no header is 0 (for
 * ever); otherwise the first line that starts with `max-age=` must carry a number. Go wrapped a negative or too
 * large number into uint32; here they are refused like a non-number.
 */
function ttlSecondsOf(req: Request): number {
  const lines = req.headersDistinct['cache-control'];
  if (lines === undefined) return 0;
  const directive = lines.find((line) => line.startsWith(MAX_AGE_PREFIX));
  if (directive === undefined) throw maxAgeMissing();
  const raw = directive.slice(MAX_AGE_PREFIX.length);
  const seconds = GO_INT.test(raw) ? Number(raw) : NaN;
  if (!(seconds >= 0 && seconds <= MAX_TTL_SECONDS)) throw invalidMaxAge(directive);
  return seconds;
}

export function domainHandlers(bbs: BbsClient): DomainHandlers {
  return {
    async UpsertDomain({ req, res, param }) {
      await bbs.upsertDomain(param('domain'), ttlSecondsOf(req));
      sendEmpty(res, 204);
    },

    async Domains({ res }) {
      sendJson(res, 200, stringifyJson(await bbs.domains()));
    },
  };
}
