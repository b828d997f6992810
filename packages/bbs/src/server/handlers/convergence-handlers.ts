import type Long from 'long';
import type { LRPConvergenceController } from '../../converger/lrp-convergence-controller';
import type { TaskConvergenceController } from '../../converger/task-convergence-controller';
import type { QueryHandlers, RpcHandlers } from '../router';

/** Go's time.Duration nanoseconds, exactly. */
function nanoseconds(duration: Long): bigint {
  return BigInt(duration.toString());
}

/** The converge routes (spec §4.2): one pass, answered once it is done. Any BBS runs it, leader or not. */
export function convergenceHandlers(
  lrps: Pick<LRPConvergenceController, 'convergeLRPs'>,
  tasks: Pick<TaskConvergenceController, 'convergeTasks'>,
): Pick<QueryHandlers, 'ConvergeLRPs'> & Pick<RpcHandlers, 'ConvergeTasks'> {
  return {
    ConvergeLRPs: async () => {
      await lrps.convergeLRPs();
      return {};
    },

    ConvergeTasks: async (request) => {
      await tasks.convergeTasks({
        kick: nanoseconds(request.kick_task_duration),
        expirePending: nanoseconds(request.expire_pending_task_duration),
        expireCompleted: nanoseconds(request.expire_completed_task_duration),
      });
      return {};
    },
  };
}
