/**
 * "Versioned down to V0" (spec/bbs.md §4.2): the r0 routes serve clients that predate cached dependencies, so
 * each dependency becomes a download action run (in parallel with the others) before the original setup or
 * task action. The r0 event stream does the same to the desired LRPs it carries.
 */
import type { Action, CachedDependency, DesiredLRP, Task } from '@diego/models';
import type { BbsEvent } from '@diego/bbs-client';

function downloadsThen(dependencies: readonly CachedDependency[], user: string, then: Action | null): Action {
  const downloads: Action = {
    parallel: {
      actions: dependencies.map((dependency) => ({
        download: {
          artifact: dependency.name,
          from: dependency.from,
          to: dependency.to,
          cache_key: dependency.cache_key,
          log_source: dependency.log_source,
          user,
        },
      })),
      log_source: '',
    },
  };
  return { serial: { actions: then === null ? [downloads] : [downloads, then], log_source: '' } };
}

export function desiredLrpToV0(lrp: DesiredLRP): DesiredLRP {
  if (lrp.cached_dependencies.length === 0) return lrp;
  return {
    ...lrp,
    setup: downloadsThen(lrp.cached_dependencies, lrp.legacy_download_user, lrp.setup),
    cached_dependencies: [],
  };
}

export function taskToV0(task: Task): Task {
  if (task.cached_dependencies.length === 0) return task;
  return {
    ...task,
    action: downloadsThen(task.cached_dependencies, task.legacy_download_user, task.action),
    cached_dependencies: [],
  };
}

/** The r0 event stream carries desired LRPs in their V0 form; other events are unchanged. */
export function eventToV0(event: BbsEvent): BbsEvent {
  switch (event.type) {
    case 'desired_lrp_created':
    case 'desired_lrp_removed':
      return { ...event, desired_lrp: desiredLrpToV0(event.desired_lrp) };
    case 'desired_lrp_changed':
      return { ...event, before: desiredLrpToV0(event.before), after: desiredLrpToV0(event.after) };
    default:
      return event;
  }
}
