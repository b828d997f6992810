/**
 * The nine actions with Diego's semantics, run inside a ProcessContainer. Each returns a RunResult; a
 * cancelled action (its AbortSignal aborted) ends with `cancelled` after its processes were killed.
 */
import { posix } from 'node:path';
import { rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Action, ActionList, EnvironmentVariable, RunAction } from '@diego/models';
import { extractArchive, fetchArchive, uploadFile } from './artifacts';
import type { RunResult } from './contracts';
import { formatGoDuration } from './go-duration';
import type { ProcessContainer, ProcessExit } from './process-container';

const SUCCEEDED: RunResult = { failed: false, failureReason: '' };
const CANCELLED: RunResult = { failed: true, failureReason: 'cancelled' };

/** What actions need besides the container: the cell's settings. */
export interface ActionContext {
  container: ProcessContainer;
  cacheDir: string;
  logger: Logger;
  /** Host users already reported missing, so each is logged once. */
  missingUsers: Set<string>;
  /** Whether an instance's run actions get the CF_INSTANCE_* address variables (Diego's -exportNetworkEnvVars). */
  exportNetworkEnvVars: boolean;
}

export async function runAction(action: Action | null, ctx: ActionContext, signal: AbortSignal): Promise<RunResult> {
  if (signal.aborted) return CANCELLED;
  if (action === null) return { failed: true, failureReason: 'missing action' };
  if (action.download) return runDownload(action.download, ctx, signal);
  if (action.upload) return runUpload(action.upload.from, action.upload.to, ctx, signal);
  if (action.run) return runRun(action.run, ctx, signal);
  if (action.timeout) return runTimeout(action.timeout.action, action.timeout.timeout, ctx, signal);
  if (action.emit_progress) {
    const { action: inner, start_message, success_message, failure_message_prefix, log_source } = action.emit_progress;
    if (start_message !== '') ctx.container.writeLine(start_message, log_source, 'executor');
    const result = await runAction(inner, ctx, signal);
    if (!result.failed && success_message !== '') ctx.container.writeLine(success_message, log_source, 'executor');
    if (result.failed && failure_message_prefix !== '') {
      ctx.container.writeLine(`${failure_message_prefix}: ${result.failureReason}`, log_source, 'executor');
    }
    return result;
  }
  if (action.try) {
    const result = await runAction(action.try.action, ctx, signal);
    if (result.failed && !signal.aborted) {
      ctx.container.writeLine(`try: ignoring failure: ${result.failureReason}`, action.try.log_source, 'executor');
      return SUCCEEDED;
    }
    return result;
  }
  if (action.parallel) return runParallel(action.parallel, ctx, signal);
  if (action.serial) {
    for (const inner of action.serial.actions) {
      const result = await runAction(inner, ctx, signal);
      if (result.failed) return result;
    }
    return SUCCEEDED;
  }
  if (action.codependent) return runCodependent(action.codependent, ctx, signal);
  return { failed: true, failureReason: 'unknown action' };
}

/** The run action's process environment, lowest precedence first: the container's base (the host's basics, or
 *  the image's env), the container's env, the run action's env, then the instance's identity and (unless the cell
 *  was told not to export them) addresses, for LRP instances only. In a network namespace of its own the app listens on its container port: PORT is what the
 *  env says, the first container port when it says nothing; on the host's network PORT is the first host port. */
function runEnvironment(container: ProcessContainer, runEnv: EnvironmentVariable[], home: string, exportNetworkEnvVars: boolean): Record<string, string> {
  const env = container.baseEnvironment(home);
  const first = container.ports[0];
  if (container.spec.instance !== null && container.ownNetwork && first !== undefined) env['PORT'] = `${first.container_port}`;
  for (const { name, value } of [...container.spec.env, ...runEnv]) env[name] = value;
  const instance = container.spec.instance;
  if (instance !== null) {
    env['INSTANCE_INDEX'] = `${instance.index}`;
    env['INSTANCE_GUID'] = container.guid;
    if (first !== undefined && !container.ownNetwork) env['PORT'] = `${first.host_port}`;
    if (!exportNetworkEnvVars) return env;
    env['CF_INSTANCE_IP'] = container.address;
    env['CF_INSTANCE_PORT'] = first === undefined ? '' : `${first.host_port}`;
    env['CF_INSTANCE_ADDR'] = first === undefined ? '' : `${container.address}:${first.host_port}`;
    env['CF_INSTANCE_PORTS'] = JSON.stringify(
      container.ports.map((p) => ({ external: p.host_port, internal: p.container_port })),
    );
    if (container.ownNetwork) env['CF_INSTANCE_INTERNAL_IP'] = container.internalAddress;
  }
  return env;
}

async function runRun(run: RunAction, ctx: ActionContext, signal: AbortSignal): Promise<RunResult> {
  const { container } = ctx;
  let exit: ProcessExit;
  try {
    const user = await container.resolveUser(run.user);
    if (user.ids === null && run.user !== '' && container.isolated && !ctx.missingUsers.has(run.user)) {
      ctx.missingUsers.add(run.user);
      ctx.logger.info({ user: run.user }, 'user-not-on-host-running-as-cell-user');
    }
    const launch = {
      path: run.path,
      args: run.args,
      dir: container.ownRoot ? posix.resolve(container.defaultDir(user.home), run.dir) : container.resolvePath(run.dir),
      env: runEnvironment(container, run.env, user.home, ctx.exportNetworkEnvVars),
      nofile: run.resource_limits?.nofile ?? 0,
      user: user.ids,
      logSource: run.log_source,
      suppressOutput: run.suppress_log_output,
    };
    exit = await container.runProcess(launch, signal);
  } catch (err) {
    return { failed: true, failureReason: `cannot run ${run.path}: ${errorMessage(err)}` };
  }
  if (exit.cancelled) return CANCELLED;
  return exit.status === 0 ? SUCCEEDED : { failed: true, failureReason: await container.exitReason(exit.status) };
}

async function runDownload(
  download: { from: string; to: string; cache_key: string; artifact: string },
  ctx: ActionContext,
  signal: AbortSignal,
): Promise<RunResult> {
  const what = download.artifact || download.from;
  try {
    const into = ctx.container.resolvePath(download.to);
    const archive = await fetchArchive(download.from, download.cache_key, ctx.cacheDir, signal);
    ctx.logger.info({ from: download.from, cache_key: download.cache_key, cached: archive.cached }, 'download-fetched');
    try {
      await extractArchive(archive.file, into, signal);
    } finally {
      if (archive.temporary) await rm(archive.file, { force: true });
    }
    return SUCCEEDED;
  } catch (err) {
    if (signal.aborted) return CANCELLED;
    return { failed: true, failureReason: `failed to download ${what}: ${errorMessage(err)}` };
  }
}

async function runUpload(from: string, to: string, ctx: ActionContext, signal: AbortSignal): Promise<RunResult> {
  try {
    await uploadFile(ctx.container.resolvePath(from), to, signal);
    return SUCCEEDED;
  } catch (err) {
    if (signal.aborted) return CANCELLED;
    return { failed: true, failureReason: `failed to upload ${from}: ${errorMessage(err)}` };
  }
}

async function runTimeout(
  inner: Action | null,
  timeoutNs: bigint,
  ctx: ActionContext,
  signal: AbortSignal,
): Promise<RunResult> {
  const child = linkedController(signal);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.abort();
  }, Number(timeoutNs / 1_000_000n));
  try {
    const result = await runAction(inner, ctx, child.signal);
    if (timedOut && !signal.aborted) return { failed: true, failureReason: `exceeded ${formatGoDuration(timeoutNs)} timeout` };
    return result;
  } finally {
    clearTimeout(timer);
    child.dispose();
  }
}

async function runParallel(list: ActionList, ctx: ActionContext, signal: AbortSignal): Promise<RunResult> {
  const results = await Promise.all(list.actions.map((inner) => runAction(inner, ctx, signal)));
  return results.find((r) => r.failed) ?? SUCCEEDED;
}

/** Ends when any child ends, and then counts as a failure; the other children are cancelled. */
async function runCodependent(list: ActionList, ctx: ActionContext, signal: AbortSignal): Promise<RunResult> {
  const child = linkedController(signal);
  try {
    const running = list.actions.map((inner) => runAction(inner, ctx, child.signal));
    const first = await Promise.race(running);
    child.abort();
    await Promise.all(running);
    if (signal.aborted) return CANCELLED;
    return first.failed ? first : { failed: true, failureReason: 'Codependent step exited' };
  } finally {
    child.dispose();
  }
}

/** An AbortController that also aborts when `parent` does; dispose() unhooks it from the parent. */
export function linkedController(parent: AbortSignal): { signal: AbortSignal; abort(): void; dispose(): void } {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  if (parent.aborted) controller.abort();
  else parent.addEventListener('abort', abort, { once: true });
  return {
    signal: controller.signal,
    abort,
    dispose: () => parent.removeEventListener('abort', abort),
  };
}

/** An error's message; `instanceof Error` is not enough, as errors from another realm (node's fs under
 *  jest's vm) fail it. */
export function errorMessage(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'message' in err && typeof err.message === 'string') return err.message;
  return String(err);
}
