import { newValidActualLrp, newValidTask } from '@diego/test-support';
import type { ActualLRP, ActualLRPGroup, Task, TaskState } from '@diego/models';
import { planBulkSync, type HeldSnapshot } from './bulk-sync';

const CELL = 'cell-a';

function onCell(processGuid: string, instanceGuid: string, state: ActualLRP['state'], index = 0): ActualLRP {
  return newValidActualLrp(processGuid, index, { instance_guid: instanceGuid, cell_id: CELL, state });
}

function task(taskGuid: string, state: TaskState): Task {
  const { definition } = newValidTask(taskGuid);
  return {
    ...definition, task_guid: taskGuid, domain: 'd', created_at: 1n, updated_at: 1n, first_completed_at: 0n, state,
    cell_id: state === 'RUNNING' ? CELL : '', result: '', failed: false, failure_reason: '',
  };
}

function holding(instances: Record<string, 'reserved' | 'claimed'>, tasks: string[] = []): HeldSnapshot {
  return {
    instances: new Map(Object.entries(instances).map(([guid, state]) => [guid, { claimed: state === 'claimed' }])),
    tasks: new Set(tasks),
  };
}

describe('planBulkSync', () => {
  it('changes nothing when the rep holds exactly what the BBS says runs on its cell', () => {
    const groups: ActualLRPGroup[] = [
      { instance: onCell('web', 'i-1', 'RUNNING'), evacuating: null },
      { instance: null, evacuating: onCell('api', 'i-2', 'RUNNING') },
    ];
    expect(planBulkSync(holding({ 'i-1': 'claimed', 'i-2': 'claimed' }, ['t-1']), groups, [task('t-1', 'RUNNING')])).toEqual([]);
  });

  it("hands back a restarted cell's claimed and running instances, removes its evacuating ones and fails its running tasks", () => {
    const claimed = onCell('web', 'i-1', 'CLAIMED', 0);
    const running = onCell('web', 'i-2', 'RUNNING', 1);
    const evacuating = onCell('api', 'i-3', 'RUNNING');
    const lost = task('t-1', 'RUNNING');
    const groups: ActualLRPGroup[] = [
      { instance: claimed, evacuating: null },
      { instance: running, evacuating: null },
      { instance: null, evacuating },
    ];
    expect(planBulkSync(holding({}), groups, [lost])).toEqual([
      { kind: 'hand-back-instance', lrp: claimed },
      { kind: 'hand-back-instance', lrp: running },
      { kind: 'remove-evacuating', lrp: evacuating },
      { kind: 'fail-task', task: lost },
    ]);
  });

  it('releases a claimed container whose record is gone or belongs to another instance, but not one still being claimed', () => {
    const replaced = onCell('web', 'i-new', 'RUNNING');
    const plan = planBulkSync(holding({ 'i-old': 'claimed', 'i-gone': 'claimed', 'i-new': 'claimed', 'i-claiming': 'reserved' }),
      [{ instance: replaced, evacuating: null }], []);
    expect(plan).toEqual([
      { kind: 'release-container', instanceGuid: 'i-old' },
      { kind: 'release-container', instanceGuid: 'i-gone' },
    ]);
  });

  it('keeps an instance handed over by evacuation: its evacuating record still names it', () => {
    // Listed by cell: the instance record, now another cell's, is not in it.
    const groups: ActualLRPGroup[] = [{ instance: null, evacuating: onCell('web', 'i-1', 'RUNNING') }];
    expect(planBulkSync(holding({ 'i-1': 'claimed' }), groups, [])).toEqual([]);
  });

  it('leaves a task it is starting and tasks that are not running alone', () => {
    expect(planBulkSync(holding({}, ['t-starting']), [], [task('t-starting', 'RUNNING'), task('t-done', 'COMPLETED')])).toEqual([]);
  });
});
