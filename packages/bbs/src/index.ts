export * from './config';
export * from './db/db';
export { EtcdDb, systemClock, type EtcdDbOptions } from './db/etcd/etcd-db';
export type { EtcdViewStatus } from './db/etcd/view';
export * as etcdKeys from './db/etcd/keys';
export {
  startBbs,
  startBbsServer,
  type BbsLeaderOptions,
  type BbsServer,
  type BbsServerOptions,
  type RunningBbs,
} from './server/bbs-server';
export { EventHub, type EventHubCounts, type EventHubOptions, type HubSubscription, type SubscriptionEnd } from './events/event-hub';
export { TaskCompletionWorkers, type TaskCompletionStore, type TaskCompletionWorkersOptions } from './task-callbacks/task-completion-workers';
export { Auctioneer, type AuctioneerOptions, type AuctioneerStore } from './auctioneer/auctioneer';
export * from './leader/contracts';
export { LeaderElection, type BbsPresence, type LeaderElectionOptions } from './leader/election';
export { BbsMetrics, type LRPConvergenceReport, type TaskConvergenceReport } from './metrics';
export {
  Converger,
  DEFAULT_CONVERGE_REPEAT_INTERVAL_MS,
  DEFAULT_TASK_CONVERGENCE_DURATIONS,
  taskConvergenceDurationsNs,
  type ConvergerOptions,
} from './converger/converger';
export { ActualLRPController } from './controllers/actual-lrp-controller';
export { LRPConvergenceController, type LRPConvergenceControllerOptions } from './converger/lrp-convergence-controller';
export { TaskConvergenceController, type TaskConvergenceControllerOptions } from './converger/task-convergence-controller';
export { type TaskConvergenceDurationsNs } from './converger/task-convergence';
export { etcdClientOptions } from './db/etcd/client-options';
export { ETCD_MAX_REQUEST_BYTES } from './db/etcd/store';
export { RecordCodec, type EncryptionOptions } from './db/etcd/record-codec';
