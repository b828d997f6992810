/**
 * `diego logs GUID`: what an LRP's instances or a task printed, as `ltc logs` and `cf logs` showed it, through the
 * receptor's GET /v1/logs/:log_guid (ours), which gathers it from the cells. GUID is a process guid or a task guid,
 * whose log_guid is looked up, or a log_guid itself.
 */
import { parseJson } from '@diego/models';
import { listenForStopSignals, type CliIo, type Command } from '../command';
import { UsageError } from '../flags';
import { boolFlag } from '../flag-types';
import type { ReceptorTarget } from '../receptor-calls';
import { connectionFlags, receptorTarget } from './operator';

export interface LogsConfig {
  target: ReceptorTarget;
  guid: string;
  follow: boolean;
}

const logsFlags = {
  ...connectionFlags,
  follow: { ...boolFlag('keep printing lines as they are written, until Ctrl-C'), shortName: 'f' },
};

export const logsCommand: Command<typeof logsFlags, LogsConfig> = {
  name: 'logs',
  summary: "print (and follow) an LRP's or a task's output, from the cells",
  description:
    "Prints the lines an LRP's instances (all of them) or a task printed, oldest first, one JSON object per line:\n" +
    '{"timestamp","log_guid","source","index","stream","line"}. GUID is a process guid, a task guid or a log_guid.\n' +
    "The receptor gathers them from every cell (GET /v1/logs/:log_guid); each cell keeps a log's newest 1,000 lines.",
  argumentsUsage: 'GUID',
  flags: logsFlags,
  compile: (values, args) => {
    const [guid] = args;
    if (args.length !== 1 || guid === undefined || guid === '') throw new UsageError('expected GUID');
    return { target: receptorTarget(values), guid, follow: values.follow };
  },
  run: (config, io) => printLogs(config, io),
};

async function printLogs(config: LogsConfig, io: CliIo): Promise<number> {
  const signals = listenForStopSignals(io);
  try {
    const logGuid = await logGuidOf(config.target, config.guid, signals.aborted);
    const path = `/v1/logs/${encodeURIComponent(logGuid)}${config.follow ? '?follow=true' : ''}`;
    const response = await receptorGet(config.target, path, signals.aborted);
    if (!response.ok || response.body === null) {
      throw new Error(`the receptor answered ${path} with HTTP ${response.status}: ${(await response.text()).trim()}`);
    }
    // The receptor writes one JSON object per line already: the lines are printed as they come.
    const decoder = new TextDecoder();
    for await (const chunk of response.body) io.stdout.write(decoder.decode(chunk, { stream: true }));
    return 0;
  } catch (error) {
    if (signals.aborted.aborted) return 0;
    io.stderr.write(`diego logs: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    signals.dispose();
  }
}

/** A process guid's or task guid's log_guid; the guid itself when it names neither. */
async function logGuidOf(target: ReceptorTarget, guid: string, signal: AbortSignal): Promise<string> {
  for (const path of [`/v1/desired_lrps/${encodeURIComponent(guid)}`, `/v1/tasks/${encodeURIComponent(guid)}`]) {
    const response = await receptorGet(target, path, signal);
    const text = await response.text();
    if (response.status === 404) continue;
    if (!response.ok) throw new Error(`the receptor answered ${path} with HTTP ${response.status}: ${text.trim()}`);
    const record = parseJson(text) as { log_guid?: unknown };
    if (typeof record.log_guid === 'string' && record.log_guid !== '') return record.log_guid;
  }
  return guid;
}

async function receptorGet(target: ReceptorTarget, path: string, signal: AbortSignal): Promise<Response> {
  try {
    return await fetch(`${target.url}${path}`, {
      headers: target.authorization === null ? {} : { authorization: target.authorization },
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw error;
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    throw new Error(`cannot reach the receptor at ${target.url}: ${cause}`);
  }
}
