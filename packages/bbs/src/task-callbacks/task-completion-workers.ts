/**
 * The task completion callback workers (spec/bbs.md §7, Diego's `taskworkpool`), run by the leader BBS only.
 * Completions are noticed on the store's etcd watch (the view's, where the store has one), so a callback fires
 * whichever BBS completed the task.
 */
import { setMaxListeners } from 'node:events';
import { convertError, taskResponseJson, type Task } from '@diego/models';
import type { Namespace } from 'etcd3';
import type { Logger } from 'pino';
import type { BbsEvent } from '@diego/bbs-client';
import type { Db } from '../db/db';
import type { RecordCodec } from '../db/etcd/record-codec';
import { followBbsEvents, storeFeedOf, type BbsEventWatch } from '../events/watch-events';
import type { LeaderLoop, TaskCompletionSubmitter } from '../leader/contracts';
import { CallbackAgents, postCallback, type CallbackOutcome } from './callback-request';

/** Diego's `MAX_CB_RETRIES`: attempts in a row before the task is left RESOLVING for convergence. */
const MAX_ATTEMPTS = 3;
/** Diego's `-taskCallBackWorkers`. */
const DEFAULT_WORKERS = 1000;
/** Diego's `-communicationTimeout`. */
const DEFAULT_CALLBACK_TIMEOUT_MS = 10_000;

/** Statuses that say "try again" (the receiver is overloaded or its proxy timed out). */
const RETRY_STATUSES = new Set([503, 504]);

export type TaskCompletionStore = Pick<Db, 'resolvingTask' | 'deleteTask' | 'observedRevision' | 'tasks'>;

export interface TaskCompletionWorkersOptions {
  db: TaskCompletionStore;
  /** The store's namespace, to follow its changes. */
  etcd: Namespace;
  /** How the store's values are stored (the store's codec); plain JSON by default. */
  codec?: RecordCodec;
  logger: Logger;
  /** Callbacks in flight at once (Diego's `-taskCallBackWorkers`, default 1000); more wait their turn. */
  taskCallbackWorkers?: number;
  /** One attempt's whole exchange (Diego's `-communicationTimeout`, default 10 s). */
  callbackTimeoutMs?: number;
}

/** What one start()..stop() holds: stopping it drops the queue, aborts the callbacks and closes the sockets. */
interface Run {
  readonly abort: AbortController;
  readonly agents: CallbackAgents;
  readonly queue: Task[];
  /** Guids queued or being handled: a task is handled by one worker at a time. */
  readonly pending: Set<string>;
  readonly handling: Set<Promise<void>>;
  /** The live watch; null while it is being (re)created and after etcd ended it. */
  watcher: BbsEventWatch | null;
  /** Settles once the latest (re)creation of the watch has finished, successfully or not. */
  following: Promise<void>;
}

/**
 * Posts every COMPLETED task that has a completion_callback_url to that URL, then deletes it. Per task:
 * ResolvingTask (the lock: only one worker of any BBS gets past it), then up to 3 attempts, retrying on 503, 504,
 * a timeout or a closed connection; any other answer deletes the task; any other failure leaves it RESOLVING,
 * for convergence to demote and resubmit.
 *
 * @example
 *   const workers = new TaskCompletionWorkers({ db, etcd: client, logger });
 *   await workers.start();   // on winning the election
 *   workers.submit(task);    // convergence resubmits a stuck callback
 *   await workers.stop();    // on losing it
 */
export class TaskCompletionWorkers implements LeaderLoop, TaskCompletionSubmitter {
  readonly name = 'task-completion-workers';

  private readonly db: TaskCompletionStore;
  private readonly etcd: Namespace;
  private readonly codec: RecordCodec | undefined;
  private readonly logger: Logger;
  private readonly workers: number;
  private readonly callbackTimeoutMs: number;
  private run: Run | null = null;
  private stopping: Promise<void> = Promise.resolve();

  constructor({ db, etcd, codec, logger, taskCallbackWorkers = DEFAULT_WORKERS, callbackTimeoutMs = DEFAULT_CALLBACK_TIMEOUT_MS }:
    TaskCompletionWorkersOptions) {
    if (!Number.isInteger(taskCallbackWorkers) || taskCallbackWorkers < 1) {
      throw new Error(`taskCallbackWorkers must be a positive integer, got ${taskCallbackWorkers}`);
    }
    if (!(callbackTimeoutMs > 0)) throw new Error(`callbackTimeoutMs must be positive, got ${callbackTimeoutMs}`);
    this.db = db;
    this.etcd = etcd;
    this.codec = codec;
    this.logger = logger.child({ session: 'task-completion-workers' });
    this.workers = taskCallbackWorkers;
    this.callbackTimeoutMs = callbackTimeoutMs;
  }

  /** Follows the store's changes from now on; resolves once the watch is in place. */
  async start(): Promise<void> {
    await this.stopping;
    if (this.run !== null) return;
    const abort = new AbortController();
    // Every callback in flight listens to it (up to the pool's size): not the leak Node's warning guesses at.
    setMaxListeners(0, abort.signal);
    const run: Run = {
      abort,
      agents: new CallbackAgents(),
      queue: [],
      pending: new Set(),
      handling: new Set(),
      watcher: null,
      following: Promise.resolve(),
    };
    this.run = run;
    try {
      await this.follow(run);
    } catch (err) {
      if (this.run === run) this.run = null;
      run.agents.destroy();
      throw err;
    }
    if (this.run === run) this.logger.info({ workers: this.workers }, 'task-completion-workers-started');
  }

  /** Stops following, drops what waits, aborts the callbacks in flight; resolves once nothing of it runs. */
  stop(): Promise<void> {
    const run = this.run;
    if (run === null) return this.stopping;
    this.run = null;
    this.stopping = (async () => {
      run.abort.abort();
      // What was queued stays COMPLETED (or RESOLVING, if aborted mid-callback): convergence resubmits it.
      run.queue.length = 0;
      await run.following;
      await run.watcher?.cancel();
      await Promise.allSettled(run.handling);
      run.agents.destroy();
      this.logger.info('task-completion-workers-stopped');
    })();
    return this.stopping;
  }

  /** Queues the task's callback, unless it has no URL, is already queued or handled, or the workers are stopped. */
  submit(task: Task): void {
    const run = this.run;
    if (run === null) {
      this.logger.debug({ task_guid: task.task_guid }, 'task-callback-not-submitted-while-stopped');
      return;
    }
    if (task.completion_callback_url === '' || run.pending.has(task.task_guid)) return;
    run.pending.add(task.task_guid);
    run.queue.push(task);
    this.pump(run);
  }

  private follow(run: Run): Promise<void> {
    const following = followBbsEvents(
      storeFeedOf(this.db),
      this.etcd,
      this.logger,
      (event) => this.onEvent(run, event),
      (err) => this.onWatchError(run, err),
      this.codec,
    ).then(async (watcher) => {
      if (this.run === run) run.watcher = watcher;
      else await watcher.cancel(); // stopped while the watch was being created
    });
    run.following = following.catch((err: unknown) => {
      this.logger.error({ err: convertError(err).message }, 'failed-to-follow-task-changes');
    });
    return following;
  }

  private onEvent(run: Run, event: BbsEvent): void {
    if (this.run !== run) return;
    // Marking the task RESOLVING reads it first: that read must see the completion.
    this.db.observedRevision(event.revision);
    if (event.type === 'task_created' && event.task.state === 'COMPLETED') this.submit(event.task);
    if (event.type === 'task_changed' && event.after.state === 'COMPLETED' && event.before.state !== 'COMPLETED') {
      this.submit(event.after);
    }
  }

  private onWatchError(run: Run, err: Error): void {
    this.logger.error({ err: err.message }, 'task-completion-watch-failed');
    // The watch is over (a view reloading, compaction, the client closed): follow again from now, then submit the
    // tasks that completed while nothing followed (a callback already made leaves its task RESOLVING or gone).
    run.watcher = null;
    if (this.run !== run) return;
    void this.follow(run)
      .then(async () => {
        for (const task of await this.db.tasks()) if (task.state === 'COMPLETED') this.submit(task);
      })
      .catch((err: unknown) => this.logger.error({ err: convertError(err).message }, 'failed-to-find-completed-tasks'));
  }

  private pump(run: Run): void {
    while (run.handling.size < this.workers && !run.abort.signal.aborted) {
      const task = run.queue.shift();
      if (task === undefined) return;
      const handled = this.handle(run, task).finally(() => {
        run.handling.delete(handled);
        run.pending.delete(task.task_guid);
        this.pump(run);
      });
      run.handling.add(handled);
    }
  }

  /** Never rejects: every failure is logged and leaves the task for convergence. */
  private async handle(run: Run, task: Task): Promise<void> {
    const taskGuid = task.task_guid;
    const logger = this.logger.child({ task_guid: taskGuid });
    let completed: Task;
    try {
      // The task as it was completed: the record that ResolvingTask moved on from.
      completed = (await this.db.resolvingTask(taskGuid)).before;
    } catch (err) {
      // Someone else is handling it, or it is gone.
      logger.info({ err: convertError(err).message }, 'task-callback-skipped');
      return;
    }
    const body = taskResponseJson(completed);
    const options = { agents: run.agents, timeoutMs: this.callbackTimeoutMs, signal: run.abort.signal };
    // The URL is never logged: callback URLs carry the receiver's credentials.
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const outcome = await postCallback(completed.completion_callback_url, body, options);
      if (outcome.kind === 'answered' && !RETRY_STATUSES.has(outcome.status)) {
        logger.info({ attempt, status: outcome.status }, 'task-callback-answered');
        await this.delete(taskGuid, logger);
        return;
      }
      if (outcome.kind === 'aborted') {
        logger.info({ attempt }, 'task-callback-aborted');
        return;
      }
      if (outcome.kind === 'failed') {
        logger.error({ attempt, err: outcome.error }, 'task-callback-failed');
        return;
      }
      logger.warn({ attempt, ...retryReason(outcome) }, 'task-callback-attempt-failed');
    }
    logger.error({ attempts: MAX_ATTEMPTS }, 'task-callback-gave-up');
  }

  private async delete(taskGuid: string, logger: Logger): Promise<void> {
    try {
      await this.db.deleteTask(taskGuid);
    } catch (err) {
      logger.error({ err: convertError(err).message }, 'failed-to-delete-task');
    }
  }
}

/** Log fields of an attempt worth repeating. */
function retryReason(outcome: CallbackOutcome & { kind: 'answered' | 'timed-out' | 'connection-closed' }):
  { outcome: string; status?: number; err?: string } {
  switch (outcome.kind) {
    case 'answered':
      return { outcome: outcome.kind, status: outcome.status };
    case 'connection-closed':
      return { outcome: outcome.kind, err: outcome.error };
    case 'timed-out':
      return { outcome: outcome.kind };
  }
}
