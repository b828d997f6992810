/**
 * `diego logs GUID`: what an LRP's instances or a task printed, as `ltc logs` and `cf logs` showed it, read
 * straight from the cells (the receptor lists them; each cell's rep serves its containers' output at
 * /v1/logs/:log_guid). GUID is a process guid or a task guid, whose log_guid is looked up, or a log_guid itself.
 */
import { parseJson, stringifyJson } from '@diego/models';
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
    'The lines come from every cell the receptor lists; each keeps the newest 1,000 lines of a log.',
  argumentsUsage: 'GUID',
  flags: logsFlags,
  compile: (values, args) => {
    const [guid] = args;
    if (args.length !== 1 || guid === undefined || guid === '') throw new UsageError('expected GUID');
    return { target: receptorTarget(values), guid, follow: values.follow };
  },
  run: (config, io) => printLogs(config, io),
};

interface Cell {
  cell_id: string;
  rep_address: string;
}

async function printLogs(config: LogsConfig, io: CliIo): Promise<number> {
  const signals = listenForStopSignals(io);
  try {
    const logGuid = await logGuidOf(config.target, config.guid, signals.aborted);
    const cells = await receptorJson<Cell[]>(config.target, '/v1/cells', signals.aborted);
    if (cells === null) throw new Error('the receptor has no /v1/cells');
    const history = await Promise.all(cells.map((cell) => readLog(cell, logGuid, false, signals.aborted, () => undefined)));
    const lines = history.flat().sort((a, b) => a.timestamp.localeCompare(b.timestamp));
    for (const line of lines) io.stdout.write(`${line.text}\n`);
    if (!config.follow) return 0;
    // Following starts after what was printed: each cell's stream repeats its history, which is skipped by count.
    const printed = new Map(cells.map((cell, i) => [cell.cell_id, history[i]?.length ?? 0]));
    await Promise.all(cells.map((cell) => {
      let skip = printed.get(cell.cell_id) ?? 0;
      return readLog(cell, logGuid, true, signals.aborted, (line) => {
        if (skip > 0) skip -= 1;
        else io.stdout.write(`${line.text}\n`);
      });
    }));
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
    const record = await receptorJson<{ log_guid?: unknown }>(target, path, signal);
    if (record !== null && typeof record.log_guid === 'string' && record.log_guid !== '') return record.log_guid;
  }
  return guid;
}

/** A receptor GET's JSON; null on a 404. */
async function receptorJson<T>(target: ReceptorTarget, path: string, signal: AbortSignal): Promise<T | null> {
  let response: Response;
  try {
    response = await fetch(`${target.url}${path}`, {
      headers: target.authorization === null ? {} : { authorization: target.authorization },
      signal,
    });
  } catch (error) {
    throw new Error(`cannot reach the receptor at ${target.url}: ${causeOf(error)}`);
  }
  const text = await response.text();
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`the receptor answered ${path} with HTTP ${response.status}: ${text.trim()}`);
  return parseJson(text) as T;
}

interface PrintedLine {
  timestamp: string;
  /** The line as printed: the cell's JSON, re-written with every digit kept. */
  text: string;
}

/** One cell's lines of a log; following, each also goes to `onLine` as it comes until the stream ends. */
async function readLog(
  cell: Cell,
  logGuid: string,
  follow: boolean,
  signal: AbortSignal,
  onLine: (line: PrintedLine) => void,
): Promise<PrintedLine[]> {
  const url = `${cell.rep_address}/v1/logs/${encodeURIComponent(logGuid)}${follow ? '?follow=true' : ''}`;
  let response: Response;
  try {
    response = await fetch(url, { signal });
  } catch (error) {
    throw new Error(`cannot reach cell ${cell.cell_id} at ${cell.rep_address}: ${causeOf(error)}`);
  }
  if (!response.ok || response.body === null) throw new Error(`cell ${cell.cell_id} answered HTTP ${response.status}`);
  const lines: PrintedLine[] = [];
  let pending = '';
  const decoder = new TextDecoder();
  for await (const chunk of response.body) {
    pending += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = pending.indexOf('\n')) !== -1) {
      const text = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (text === '') continue;
      const value = parseJson(text) as { timestamp?: unknown };
      const line = { timestamp: typeof value.timestamp === 'string' ? value.timestamp : '', text: stringifyJson(value) };
      if (follow) onLine(line);
      else lines.push(line);
    }
  }
  return lines;
}

function causeOf(error: unknown): string {
  if (error instanceof Error) return error.cause instanceof Error ? error.cause.message : error.message;
  return String(error);
}
