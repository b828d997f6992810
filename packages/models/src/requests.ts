// CONTRACT STUB (models helper implements): receptor request bodies, decoded as Go's encoding/json would
// (spec/receptor-api.md §1.2, §4.1, §4.3, §4.4). The body text is parsed with parseJson and checked by ajv
// schemas (checked against their types at compile time); any decode or type error throws
// BbsError('InvalidJSON', <Go-like message>). Domain rules are NOT checked here (see validation.ts).
import type { DesiredLRP, DesiredLRPUpdate, TaskDefinition } from './types';

export interface TaskCreateRequest {
  task_guid: string;
  domain: string;
  definition: TaskDefinition;
}
export declare function decodeTaskCreateRequest(body: string): TaskCreateRequest;
/** The modification tag is zero ({epoch: "", index: 0}); the store stamps it. */
export declare function decodeDesiredLrpCreateRequest(body: string): DesiredLRP;
export declare function decodeDesiredLrpUpdateRequest(body: string): DesiredLRPUpdate;
