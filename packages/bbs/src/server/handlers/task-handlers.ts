import {
  taskDefinitionFromProto,
  taskToProto,
  validateDesireTask,
  validateFailTaskRequest,
  validateTaskGuidRequest,
  validateTaskOnCellRequest,
  type Task,
} from '@diego/models';
import type { TaskController } from '../../controllers/task-controller';
import type { Db } from '../../db/db';
import type { TaskFilter } from '@diego/bbs-client';
import type { RpcHandlers, RpcReply } from '../router';
import { taskToV0 } from '../v0';
import { ifPresent } from './request-parts';

type TaskRouteName =
  | 'Tasks_r1' | 'TaskByGuid_r1' | 'Tasks' | 'TaskByGuid' | 'DesireTask' | 'StartTask' | 'CancelTask' | 'FailTask'
  | 'CompleteTask' | 'ResolvingTask' | 'DeleteTask';

export type TaskHandlerStore = Pick<
  Db,
  'listTasks' | 'taskByGuid' | 'desireTask' | 'startTask' | 'failTask' | 'completeTask' | 'resolvingTask' | 'deleteTask'
>;

function taskFilter(domain: string, cellId: string): TaskFilter {
  return { ...(domain === '' ? {} : { domain }), ...(cellId === '' ? {} : { cell_id: cellId }) };
}

export function taskHandlers(db: TaskHandlerStore, controller: Pick<TaskController, 'cancelTask'>): Pick<RpcHandlers, TaskRouteName> {
  const list = async (domain: string, cellId: string, version: (task: Task) => Task, reply: RpcReply) => {
    const tasks = await db.listTasks(taskFilter(domain, cellId));
    reply.readAt(tasks.revision);
    return { tasks: tasks.items.map((task) => taskToProto(version(task))) };
  };
  const get = async (taskGuid: string, version: (task: Task) => Task) => {
    validateTaskGuidRequest(taskGuid);
    return { task: taskToProto(version(await db.taskByGuid(taskGuid))) };
  };
  const current = (task: Task): Task => task;

  return {
    Tasks_r1: (request, reply) => list(request.domain, request.cell_id, current, reply),
    Tasks: (request, reply) => list(request.domain, request.cell_id, taskToV0, reply),
    TaskByGuid_r1: (request) => get(request.task_guid, current),
    TaskByGuid: (request) => get(request.task_guid, taskToV0),

    DesireTask: async (request) => {
      const definition = taskDefinitionFromProto(request.task_definition);
      validateDesireTask(request.task_guid, request.domain, ifPresent(request.task_definition, definition));
      await db.desireTask(definition, request.task_guid, request.domain);
      return {};
    },

    StartTask: async (request) => {
      validateTaskOnCellRequest(request.task_guid, request.cell_id);
      const { shouldStart } = await db.startTask(request.task_guid, request.cell_id);
      return { should_start: shouldStart };
    },

    CancelTask: async (request) => {
      validateTaskGuidRequest(request.task_guid);
      await controller.cancelTask(request.task_guid);
      return {};
    },

    FailTask: async (request) => {
      validateFailTaskRequest(request.task_guid, request.failure_reason);
      await db.failTask(request.task_guid, request.failure_reason);
      return {};
    },

    CompleteTask: async (request) => {
      validateTaskOnCellRequest(request.task_guid, request.cell_id);
      await db.completeTask(request.task_guid, request.cell_id, request.failed, request.failure_reason, request.result);
      return {};
    },

    ResolvingTask: async (request) => {
      validateTaskGuidRequest(request.task_guid);
      await db.resolvingTask(request.task_guid);
      return {};
    },

    DeleteTask: async (request) => {
      validateTaskGuidRequest(request.task_guid);
      await db.deleteTask(request.task_guid);
      return {};
    },
  };
}
