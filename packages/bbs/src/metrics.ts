/**
 * The BBS's metrics with Diego's names (spec/bbs.md §8.2, §8.3; bbs `metrics`), served in Prometheus format on
 * `--debugAddr` at `/metrics`. Each BBS has its own registry, so that several in one process (tests) never mix.
 *
 * Prometheus names cannot contain '.', so Diego's `Domain.<name>` is the gauge `Domain{domain="<name>"}`.
 * Durations are in seconds, Prometheus's unit (Diego sent nanoseconds).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What the store holds, for the metrics of §8.3 (the converger counts them). */
export interface LRPCounts {
  /** The sum of the desired LRPs' instances. */
  desired: number;
  unclaimed: number;
  claimed: number;
  running: number;
  crashed: number;
  /** Desired LRPs with at least one CRASHED instance. */
  crashingDesireds: number;
}

/** The tasks in each state, for the metrics of §8.2 (the converger counts them). */
export interface TaskCounts {
  pending: number;
  running: number;
  completed: number;
  resolving: number;
}

export interface LRPConvergenceReport {
  counts: LRPCounts;
  missing: number;
  extra: number;
  freshDomains: readonly string[];
  durationSeconds: number;
}

export interface TaskConvergenceReport {
  counts: TaskCounts;
  /** Tasks auctioned again, callbacks sent again and RESOLVING tasks demoted. */
  kicked: number;
  /** Expired tasks deleted and records that did not decode. */
  pruned: number;
  durationSeconds: number;
}

/**
 * @example
 *   const metrics = new BbsMetrics();
 *   metrics.recordLRPConvergence(report);
 *   response.end(await metrics.registry.metrics());
 */
export class BbsMetrics {
  readonly registry = new Registry();

  private readonly lrpsDesired = this.gauge('LRPsDesired', 'Instances desired: the sum of the desired LRPs\' instances');
  private readonly lrpsUnclaimed = this.gauge('LRPsUnclaimed', 'Instance records UNCLAIMED');
  private readonly lrpsClaimed = this.gauge('LRPsClaimed', 'Instance records CLAIMED');
  private readonly lrpsRunning = this.gauge('LRPsRunning', 'Instance records RUNNING');
  private readonly crashedActualLRPs = this.gauge('CrashedActualLRPs', 'Instance records CRASHED');
  private readonly crashingDesiredLRPs = this.gauge('CrashingDesiredLRPs', 'Desired LRPs with at least one CRASHED instance');
  private readonly lrpsMissing = this.gauge('LRPsMissing', 'Instances the last LRP convergence found missing and created');
  private readonly lrpsExtra = this.gauge('LRPsExtra', 'Instances beyond the desired count the last LRP convergence retired');
  private readonly domain = new Gauge({
    name: 'Domain',
    help: 'Fresh domains (Diego\'s Domain.<name>): 1 for each domain fresh at the last LRP convergence',
    labelNames: ['domain'],
    registers: [this.registry],
  });
  private readonly convergenceLRPDuration = this.gauge('ConvergenceLRPDuration', 'Seconds the last LRP convergence took');
  private readonly convergenceLRPRuns = this.counter('ConvergenceLRPRuns', 'LRP convergence passes');

  private readonly tasksPending = this.gauge('TasksPending', 'Tasks PENDING');
  private readonly tasksRunning = this.gauge('TasksRunning', 'Tasks RUNNING');
  private readonly tasksCompleted = this.gauge('TasksCompleted', 'Tasks COMPLETED');
  private readonly tasksResolving = this.gauge('TasksResolving', 'Tasks RESOLVING');
  private readonly convergenceTaskDuration = this.gauge('ConvergenceTaskDuration', 'Seconds the last task convergence took');
  private readonly convergenceTaskRuns = this.counter('ConvergenceTaskRuns', 'Task convergence passes');
  private readonly convergenceTasksKicked = this.counter('ConvergenceTasksKicked', 'Tasks auctioned or called back again by convergence');
  private readonly convergenceTasksPruned = this.counter('ConvergenceTasksPruned', 'Tasks deleted by convergence');

  private readonly requestLatency = new Histogram({
    name: 'RequestLatency',
    help: 'Seconds to answer a BBS API request, per route (event streams excluded)',
    labelNames: ['route'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly requestCount = new Counter({
    name: 'RequestCount',
    help: 'BBS API requests answered, per route',
    labelNames: ['route'],
    registers: [this.registry],
  });

  private readonly leader = this.gauge('BBSLeader', '1 while this BBS holds the election /v1/locks/bbs_lock and runs the loops');

  recordLRPConvergence(report: LRPConvergenceReport): void {
    const { counts } = report;
    this.lrpsDesired.set(counts.desired);
    this.lrpsUnclaimed.set(counts.unclaimed);
    this.lrpsClaimed.set(counts.claimed);
    this.lrpsRunning.set(counts.running);
    this.crashedActualLRPs.set(counts.crashed);
    this.crashingDesiredLRPs.set(counts.crashingDesireds);
    this.lrpsMissing.set(report.missing);
    this.lrpsExtra.set(report.extra);
    // A domain that is no longer fresh disappears from the gauge.
    this.domain.reset();
    for (const domain of report.freshDomains) this.domain.set({ domain }, 1);
    this.convergenceLRPDuration.set(report.durationSeconds);
    this.convergenceLRPRuns.inc();
  }

  recordTaskConvergence(report: TaskConvergenceReport): void {
    const { counts } = report;
    this.tasksPending.set(counts.pending);
    this.tasksRunning.set(counts.running);
    this.tasksCompleted.set(counts.completed);
    this.tasksResolving.set(counts.resolving);
    this.convergenceTaskDuration.set(report.durationSeconds);
    this.convergenceTaskRuns.inc();
    this.convergenceTasksKicked.inc(report.kicked);
    this.convergenceTasksPruned.inc(report.pruned);
  }

  recordRequest(route: string, seconds: number): void {
    this.requestLatency.observe({ route }, seconds);
    this.requestCount.inc({ route });
  }

  recordLeadership(isLeader: boolean): void {
    this.leader.set(isLeader ? 1 : 0);
  }

  private gauge(name: string, help: string): Gauge {
    return new Gauge({ name, help, registers: [this.registry] });
  }

  private counter(name: string, help: string): Counter {
    return new Counter({ name, help, registers: [this.registry] });
  }
}
