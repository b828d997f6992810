export * from './config';
export * from './db/db';
export * from './bbs-client';
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
export { DEFAULT_SUBSCRIBER_BUFFER, EventHub, type EventHubCounts, type EventHubOptions, type HubSubscription, type SubscriptionEnd } from './events/event-hub';
export {
  COMPACTED_EVENT,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  HEARTBEAT_COMMENT,
  REVISION_HEADER,
  eventId,
  parseEventId,
  resumeEventId,
  type ResumePoint,
} from './events/resume';
export { HttpBbsClient, type HttpBbsClientOptions } from './client';
export { startDebugServer } from './debug-server';
export { closeServer, listenOn, parseListenAddress } from './listen';
export { machineIpv4, reachableHostPort } from './host-address';
export { MAX_REQUEST_BODY_BYTES, RequestBodyTooLarge, readBodyWithin } from './read-body';
export { TaskCompletionWorkers, type TaskCompletionStore, type TaskCompletionWorkersOptions } from './task-callbacks/task-completion-workers';
export * from './rep/rep-api';
export { HttpRepClient, repLogLines, type HttpRepClientOptions, type RepClient, type RepLogLine } from './rep/rep-client';
export { Auctioneer, type AuctioneerOptions, type AuctioneerStore } from './auctioneer/auctioneer';
export {
  CellPresenceMaintainer,
  DEFAULT_CELL_PRESENCE_TTL_SECONDS,
  type CellPresenceMaintainerOptions,
} from './cell-presence';
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
export { SseParser, type SseFrame } from './sse-parser';
export { etcdClientOptions } from './db/etcd/client-options';
export { ETCD_MAX_REQUEST_BYTES } from './db/etcd/store';
export {
  BBS_CLIENT_TLS_FLAGS,
  BBS_SERVER_TLS_FLAGS,
  ETCD_TLS_FLAGS,
  TlsFileError,
  readMutualTls,
  type TlsFlagNames,
  type TlsMaterial,
} from './tls/tls-files';
export {
  LOOPBACK_HOSTS,
  LOOPBACK_IPS,
  createCertificateAuthority,
  issueCertificate,
  localClusterCertificates,
  type CertificateFiles,
  type CertificateUsage,
  type LocalClusterCertificates,
} from './tls/certificates';
export { packageVersion } from './package-version';
export { RecordCodec, type EncryptionOptions } from './db/etcd/record-codec';
export type { DesiredLRPSummary, DesiredLRPSummaryPage } from './server/handlers/dashboard-handlers';
export { TASK_SUMMARY_STATES } from './server/handlers/dashboard-handlers';
