/** Tasks (spec/receptor-api.md §3.1–§3.5). */
import { decodeTaskCreateRequest, taskResponseJson, validateActionDepth, validateCompletionCallbackUrl } from '@diego/models';
import type { BbsClient } from '@diego/bbs-client';
import { unmappedFailure } from '../errors';
import { queryParam } from '../request-body';
import { sendEmpty, sendJson, sendList } from '../responses';
import type { Handlers } from './handler';

export type TaskHandlers = Pick<Handlers, 'CreateTask' | 'Tasks' | 'GetTask' | 'DeleteTask' | 'CancelTask'>;

export function taskHandlers(bbs: BbsClient): TaskHandlers {
  return {
    async CreateTask({ res, subject, body }) {
      const { task_guid, domain, definition } = decodeTaskCreateRequest(body);
      subject.task_guid = task_guid;
      subject.domain = domain;
      validateCompletionCallbackUrl(definition.completion_callback_url);
      validateActionDepth({ action: definition.action });
      await bbs.desireTask(task_guid, domain, definition);
      sendEmpty(res, 201);
    },

    async Tasks({ req, res }) {
      const domain = queryParam(req, 'domain');
      sendList(res, await bbs.listTasks(domain === undefined ? undefined : { domain }), taskResponseJson);
    },

    async GetTask({ res, param }) {
      sendJson(res, 200, taskResponseJson(await bbs.taskByGuid(param('task_guid'))));
    },

    async DeleteTask({ res, param }) {
      const taskGuid = param('task_guid');
      await bbs.resolvingTask(taskGuid);
      await bbs.deleteTask(taskGuid).catch((err: unknown) => {
        throw unmappedFailure(err);
      });
      // The receptor never wrote a status here: a bare 200.
      sendEmpty(res, 200);
    },

    async CancelTask({ res, param }) {
      await bbs.cancelTask(param('task_guid'));
      sendEmpty(res, 200);
    },
  };
}
