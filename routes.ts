/**
 * The route table: every receptor route, every BBS route and every package service route, as data. Servers and
 * clients are built from it (a route without a handler is a compile error: handler maps are typed
 * `Record<RouteName, Handler>`).
 * Names and paths are Diego's (receptor `routes.go`, Nov 2015; bbs `routes.go`, Mar 2016).
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface ReceptorRoute {
  readonly name: string;
  readonly method: HttpMethod;
  /** `:param` segments match one non-empty path segment. */
  readonly path: string;
  /** Served without credentials even when basic auth is on (Lattice's `ltc sync` download). */
  readonly withoutAuth?: true;
}

/** The receptor's JSON REST API (spec/receptor-api.md §2, routes 1–21). */
export const ReceptorRoutes = [
  // tasks
  { name: 'CreateTask', method: 'POST', path: '/v1/tasks' },
  { name: 'Tasks', method: 'GET', path: '/v1/tasks' },
  { name: 'GetTask', method: 'GET', path: '/v1/tasks/:task_guid' },
  { name: 'DeleteTask', method: 'DELETE', path: '/v1/tasks/:task_guid' },
  { name: 'CancelTask', method: 'POST', path: '/v1/tasks/:task_guid/cancel' },

  // desired LRPs
  { name: 'CreateDesiredLRP', method: 'POST', path: '/v1/desired_lrps' },
  { name: 'GetDesiredLRP', method: 'GET', path: '/v1/desired_lrps/:process_guid' },
  { name: 'UpdateDesiredLRP', method: 'PUT', path: '/v1/desired_lrps/:process_guid' },
  { name: 'DeleteDesiredLRP', method: 'DELETE', path: '/v1/desired_lrps/:process_guid' },
  { name: 'DesiredLRPs', method: 'GET', path: '/v1/desired_lrps' },

  // actual LRPs
  { name: 'ActualLRPs', method: 'GET', path: '/v1/actual_lrps' },
  { name: 'ActualLRPsByProcessGuid', method: 'GET', path: '/v1/actual_lrps/:process_guid' },
  { name: 'ActualLRPByProcessGuidAndIndex', method: 'GET', path: '/v1/actual_lrps/:process_guid/index/:index' },
  { name: 'KillActualLRPByProcessGuidAndIndex', method: 'DELETE', path: '/v1/actual_lrps/:process_guid/index/:index' },

  // cells
  { name: 'Cells', method: 'GET', path: '/v1/cells' },

  // domains
  { name: 'UpsertDomain', method: 'PUT', path: '/v1/domains/:domain' },
  { name: 'Domains', method: 'GET', path: '/v1/domains' },

  // event stream
  { name: 'EventStream', method: 'GET', path: '/v1/events' },

  // authentication
  { name: 'GenerateCookie', method: 'POST', path: '/v1/auth_cookie' },

  // Lattice (Oct 2015): `ltc` binaries and the release versions of the installation
  { name: 'Download', method: 'GET', path: '/v1/sync/:arch/:artifact', withoutAuth: true },
  { name: 'GetVersion', method: 'GET', path: '/v1/version' },

  // ours (no 2015 client calls it): what an LRP's instances or a task printed, from the cells (`?follow=true`)
  { name: 'Logs', method: 'GET', path: '/v1/logs/:log_guid' },

  // ours, for the dashboard (README "Dashboard"): reads a page at a time whatever the size of the cluster, the
  // tasks' events (GET /v1/events carries only the six LRP events), and an image's config from a cell
  { name: 'DesiredLRPSummaries', method: 'GET', path: '/v1/desired_lrp_summaries' },
  { name: 'TaskSummaries', method: 'GET', path: '/v1/task_summaries' },
  { name: 'CellSummaries', method: 'GET', path: '/v1/cell_summaries' },
  { name: 'CellActualLRPs', method: 'GET', path: '/v1/cells/:cell_id/actual_lrps' },
  { name: 'DomainFreshness', method: 'GET', path: '/v1/domain_freshness' },
  { name: 'TaskEventStream', method: 'GET', path: '/v1/task_events' },
  // ours: cells appearing and disappearing, domains turning fresh and expiring (no 2015 client knows the names)
  { name: 'ClusterEventStream', method: 'GET', path: '/v1/cluster_events' },
  { name: 'ImageConfig', method: 'GET', path: '/v1/image_config' },
  // whether basic auth is on and the request's Authorization (else its cookie) passes it: answered without the 401
  // challenge a browser meets with a prompt of its own, so that the dashboard can ask for credentials itself
  { name: 'Session', method: 'GET', path: '/v1/session', withoutAuth: true },
] as const satisfies readonly ReceptorRoute[];

export type ReceptorRouteName = (typeof ReceptorRoutes)[number]['name'];

export interface BbsRoute {
  readonly name: string;
  readonly method: HttpMethod;
  readonly path: string;
  /** The proto message (package `models`) of the request body; null for routes that take none. */
  readonly request: string | null;
  /** The proto message of the response body; null for event streams (SSE). */
  readonly response: string | null;
}

/** The BBS's protobuf-over-HTTP API (spec/bbs.md §4.2). Errors travel in the response's `error` field. */
export const BbsRoutes = [
  { name: 'Ping', method: 'POST', path: '/v1/ping', request: null, response: 'PingResponse' },

  // domains
  { name: 'Domains', method: 'POST', path: '/v1/domains/list', request: null, response: 'DomainsResponse' },
  { name: 'UpsertDomain', method: 'POST', path: '/v1/domains/upsert', request: 'UpsertDomainRequest', response: 'UpsertDomainResponse' },

  // actual LRP groups
  { name: 'ActualLRPGroups', method: 'POST', path: '/v1/actual_lrp_groups/list', request: 'ActualLRPGroupsRequest', response: 'ActualLRPGroupsResponse' },
  { name: 'ActualLRPGroupsByProcessGuid', method: 'POST', path: '/v1/actual_lrp_groups/list_by_process_guid', request: 'ActualLRPGroupsByProcessGuidRequest', response: 'ActualLRPGroupsResponse' },
  { name: 'ActualLRPGroupByProcessGuidAndIndex', method: 'POST', path: '/v1/actual_lrp_groups/get_by_process_guid_and_index', request: 'ActualLRPGroupByProcessGuidAndIndexRequest', response: 'ActualLRPGroupResponse' },

  // actual LRP lifecycle
  { name: 'ClaimActualLRP', method: 'POST', path: '/v1/actual_lrps/claim', request: 'ClaimActualLRPRequest', response: 'ActualLRPLifecycleResponse' },
  { name: 'StartActualLRP', method: 'POST', path: '/v1/actual_lrps/start', request: 'StartActualLRPRequest', response: 'ActualLRPLifecycleResponse' },
  { name: 'CrashActualLRP', method: 'POST', path: '/v1/actual_lrps/crash', request: 'CrashActualLRPRequest', response: 'ActualLRPLifecycleResponse' },
  { name: 'FailActualLRP', method: 'POST', path: '/v1/actual_lrps/fail', request: 'FailActualLRPRequest', response: 'ActualLRPLifecycleResponse' },
  { name: 'RemoveActualLRP', method: 'POST', path: '/v1/actual_lrps/remove', request: 'RemoveActualLRPRequest', response: 'ActualLRPLifecycleResponse' },
  { name: 'RetireActualLRP', method: 'POST', path: '/v1/actual_lrps/retire', request: 'RetireActualLRPRequest', response: 'ActualLRPLifecycleResponse' },

  // evacuation
  { name: 'RemoveEvacuatingActualLRP', method: 'POST', path: '/v1/actual_lrps/remove_evacuating', request: 'RemoveEvacuatingActualLRPRequest', response: 'RemoveEvacuatingActualLRPResponse' },
  { name: 'EvacuateClaimedActualLRP', method: 'POST', path: '/v1/actual_lrps/evacuate_claimed', request: 'EvacuateClaimedActualLRPRequest', response: 'EvacuationResponse' },
  { name: 'EvacuateCrashedActualLRP', method: 'POST', path: '/v1/actual_lrps/evacuate_crashed', request: 'EvacuateCrashedActualLRPRequest', response: 'EvacuationResponse' },
  { name: 'EvacuateStoppedActualLRP', method: 'POST', path: '/v1/actual_lrps/evacuate_stopped', request: 'EvacuateStoppedActualLRPRequest', response: 'EvacuationResponse' },
  { name: 'EvacuateRunningActualLRP', method: 'POST', path: '/v1/actual_lrps/evacuate_running', request: 'EvacuateRunningActualLRPRequest', response: 'EvacuationResponse' },

  // desired LRPs
  { name: 'DesiredLRPs_r1', method: 'POST', path: '/v1/desired_lrps/list.r1', request: 'DesiredLRPsRequest', response: 'DesiredLRPsResponse' },
  { name: 'DesiredLRPByProcessGuid_r1', method: 'POST', path: '/v1/desired_lrps/get_by_process_guid.r1', request: 'DesiredLRPByProcessGuidRequest', response: 'DesiredLRPResponse' },
  { name: 'DesiredLRPSchedulingInfos', method: 'POST', path: '/v1/desired_lrp_scheduling_infos/list', request: 'DesiredLRPsRequest', response: 'DesiredLRPSchedulingInfosResponse' },
  /** @deprecated r0: the desired LRPs "versioned down to V0" (cached dependencies become download actions). */
  { name: 'DesiredLRPs', method: 'POST', path: '/v1/desired_lrps/list', request: 'DesiredLRPsRequest', response: 'DesiredLRPsResponse' },
  /** @deprecated r0, as DesiredLRPs. */
  { name: 'DesiredLRPByProcessGuid', method: 'POST', path: '/v1/desired_lrps/get_by_process_guid', request: 'DesiredLRPByProcessGuidRequest', response: 'DesiredLRPResponse' },
  { name: 'DesireDesiredLRP', method: 'POST', path: '/v1/desired_lrp/desire', request: 'DesireLRPRequest', response: 'DesiredLRPLifecycleResponse' },
  { name: 'UpdateDesireLRP', method: 'POST', path: '/v1/desired_lrp/update', request: 'UpdateDesiredLRPRequest', response: 'DesiredLRPLifecycleResponse' },
  { name: 'RemoveDesiredLRP', method: 'POST', path: '/v1/desired_lrp/remove', request: 'RemoveDesiredLRPRequest', response: 'DesiredLRPLifecycleResponse' },
  /** Runs one LRP convergence pass (§8.3) synchronously; the leader also runs it on its own. */
  { name: 'ConvergeLRPs', method: 'POST', path: '/v1/lrps/converge', request: null, response: 'ConvergeLRPsResponse' },

  // tasks
  { name: 'Tasks_r1', method: 'POST', path: '/v1/tasks/list.r1', request: 'TasksRequest', response: 'TasksResponse' },
  { name: 'TaskByGuid_r1', method: 'POST', path: '/v1/tasks/get_by_task_guid.r1', request: 'TaskByGuidRequest', response: 'TaskResponse' },
  /** @deprecated r0: tasks "versioned down to V0". */
  { name: 'Tasks', method: 'POST', path: '/v1/tasks/list', request: 'TasksRequest', response: 'TasksResponse' },
  /** @deprecated r0; a GET with a protobuf body, as Diego's. */
  { name: 'TaskByGuid', method: 'GET', path: '/v1/tasks/get_by_task_guid', request: 'TaskByGuidRequest', response: 'TaskResponse' },
  { name: 'DesireTask', method: 'POST', path: '/v1/tasks/desire', request: 'DesireTaskRequest', response: 'TaskLifecycleResponse' },
  { name: 'StartTask', method: 'POST', path: '/v1/tasks/start', request: 'StartTaskRequest', response: 'StartTaskResponse' },
  { name: 'CancelTask', method: 'POST', path: '/v1/tasks/cancel', request: 'TaskGuidRequest', response: 'TaskLifecycleResponse' },
  { name: 'FailTask', method: 'POST', path: '/v1/tasks/fail', request: 'FailTaskRequest', response: 'TaskLifecycleResponse' },
  { name: 'CompleteTask', method: 'POST', path: '/v1/tasks/complete', request: 'CompleteTaskRequest', response: 'TaskLifecycleResponse' },
  { name: 'ResolvingTask', method: 'POST', path: '/v1/tasks/resolving', request: 'TaskGuidRequest', response: 'TaskLifecycleResponse' },
  { name: 'DeleteTask', method: 'POST', path: '/v1/tasks/delete', request: 'TaskGuidRequest', response: 'TaskLifecycleResponse' },
  /** Runs one task convergence pass (§8.2) with the request's durations, synchronously. */
  { name: 'ConvergeTasks', method: 'POST', path: '/v1/tasks/converge', request: 'ConvergeTasksRequest', response: 'ConvergeTasksResponse' },

  // cells
  { name: 'Cells_r1', method: 'GET', path: '/v1/cells/list.r1', request: null, response: 'CellsResponse' },
  // Cell presence through the BBS (ours: Diego's rep held a consul lock itself; DESIGN.md "Cells never touch etcd").
  { name: 'RegisterCell', method: 'POST', path: '/v1/cells/register', request: 'RegisterCellRequest', response: 'RegisterCellResponse' },
  { name: 'CellHeartbeat', method: 'POST', path: '/v1/cells/heartbeat', request: 'CellHeartbeatRequest', response: 'CellHeartbeatResponse' },
  { name: 'RemoveCell', method: 'POST', path: '/v1/cells/remove', request: 'RemoveCellRequest', response: 'RemoveCellResponse' },

  // events (SSE of base64 protobuf events)
  { name: 'EventStream_r0', method: 'GET', path: '/v1/events', request: null, response: null },

  // package repositories (ours, for `diego packages`): Cosmos's ordered list, each route answering the whole list
  { name: 'PackageRepositories', method: 'POST', path: '/v1/package_repositories/list', request: null, response: 'PackageRepositoriesResponse' },
  { name: 'AddPackageRepository', method: 'POST', path: '/v1/package_repositories/add', request: 'AddPackageRepositoryRequest', response: 'PackageRepositoriesResponse' },
  { name: 'DeletePackageRepository', method: 'POST', path: '/v1/package_repositories/delete', request: 'DeletePackageRepositoryRequest', response: 'PackageRepositoriesResponse' },
  { name: 'InitializePackageRepositories', method: 'POST', path: '/v1/package_repositories/initialize', request: 'InitializePackageRepositoriesRequest', response: 'PackageRepositoriesResponse' },

  // lists in the receptor's JSON (ours): what GET /v1/actual_lrps and GET /v1/desired_lrps answer, spliced by the BBS
  { name: 'ActualLRPsReceptorJSON', method: 'POST', path: '/v1/actual_lrp_groups/list.receptor_json', request: 'ActualLRPGroupsRequest', response: 'ReceptorJSONResponse' },
  { name: 'DesiredLRPsReceptorJSON', method: 'POST', path: '/v1/desired_lrps/list.receptor_json', request: 'DesiredLRPsRequest', response: 'ReceptorJSONResponse' },

  // the dashboard's reads (ours), in the receptor's JSON: one page of DesiredLRPs with their instances counted by
  // state, read from the BBS's memory; the fresh domains with the seconds their freshness has left
  { name: 'DesiredLRPSummariesReceptorJSON', method: 'POST', path: '/v1/desired_lrp_summaries/list.receptor_json', request: 'DesiredLRPSummariesRequest', response: 'ReceptorJSONResponse' },
  { name: 'DomainFreshnessReceptorJSON', method: 'POST', path: '/v1/domains/freshness.receptor_json', request: null, response: 'ReceptorJSONResponse' },
  // one page of tasks, newest first, filtered by domain, state and guid, from the BBS's memory
  { name: 'TaskSummariesReceptorJSON', method: 'POST', path: '/v1/task_summaries/list.receptor_json', request: 'TaskSummariesRequest', response: 'ReceptorJSONResponse' },
] as const satisfies readonly BbsRoute[];

export type BbsRouteName = (typeof BbsRoutes)[number]['name'];

export interface PackageRoute {
  readonly name: string;
  readonly method: HttpMethod;
  readonly path: string;
  /**
   * Cosmos's media types name the route's messages: `application/vnd.dcos.package.<kind>-request+json;charset=utf-8;
   * version=<requestVersion>` in, and the `-response` of `responseVersion` out.
   */
  readonly kind: string;
  readonly requestVersion: string;
  readonly responseVersion: string;
}

/** `diego packages`: DC/OS Cosmos's package API (README "Packages"), every route a POST of JSON. */
export const PackageRoutes = [
  { name: 'AddRepository', method: 'POST', path: '/package/repository/add', kind: 'repository.add', requestVersion: 'v1', responseVersion: 'v1' },
  { name: 'ListRepositories', method: 'POST', path: '/package/repository/list', kind: 'repository.list', requestVersion: 'v1', responseVersion: 'v1' },
  { name: 'DeleteRepository', method: 'POST', path: '/package/repository/delete', kind: 'repository.delete', requestVersion: 'v1', responseVersion: 'v1' },
  // ours: fetches every repository's index now rather than at the next interval
  { name: 'RefreshRepositories', method: 'POST', path: '/package/repository/refresh', kind: 'repository.refresh', requestVersion: 'v1', responseVersion: 'v1' },
  { name: 'SearchPackages', method: 'POST', path: '/package/search', kind: 'search', requestVersion: 'v1', responseVersion: 'v1' },
  { name: 'DescribePackage', method: 'POST', path: '/package/describe', kind: 'describe', requestVersion: 'v1', responseVersion: 'v3' },
  { name: 'InstallPackage', method: 'POST', path: '/package/install', kind: 'install', requestVersion: 'v1', responseVersion: 'v2' },
  { name: 'ListPackages', method: 'POST', path: '/package/list', kind: 'list', requestVersion: 'v1', responseVersion: 'v1' },
  { name: 'UninstallPackage', method: 'POST', path: '/package/uninstall', kind: 'uninstall', requestVersion: 'v1', responseVersion: 'v1' },
] as const satisfies readonly PackageRoute[];

export type PackageRouteName = (typeof PackageRoutes)[number]['name'];
