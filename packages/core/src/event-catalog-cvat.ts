import { z } from 'zod';

// CVAT's resource events: one create/update/delete triple per resource, so they are built from a table.

/** CVAT resources that have create/update/delete events. */
export const CVAT_RESOURCES = ['project', 'task', 'job', 'issue', 'comment'] as const;
export type CvatResource = (typeof CVAT_RESOURCES)[number];

const cvatResourceObject = () => z.looseObject({ id: z.number().int() });

export function cvatSchema(resource: CvatResource, withBeforeUpdate: boolean) {
  const shape: Record<string, z.ZodType> = { [resource]: cvatResourceObject() };
  if (withBeforeUpdate) shape.before_update = z.looseObject({});
  return z.looseObject(shape);
}

// Example objects are trimmed versions of what each platform documents sending.
export const cvatExamples: Record<CvatResource, Record<string, unknown>> = {
  project: {
    id: 7,
    name: 'Street scenes',
    owner: { id: 1, username: 'admin1' },
    status: 'annotation',
    created_date: '2026-02-06T12:00:00.000Z',
    updated_date: '2026-02-06T12:30:00.000Z',
  },
  task: {
    id: 15,
    name: 'Batch 3',
    project_id: 7,
    mode: 'annotation',
    status: 'annotation',
    size: 120,
  },
  job: {
    id: 31,
    task_id: 15,
    project_id: 7,
    stage: 'annotation',
    state: 'in progress',
    assignee: { id: 3, username: 'annotator' },
  },
  issue: {
    id: 4,
    job: 31,
    frame: 12,
    position: [10, 20, 110, 140],
    resolved: false,
    owner: { id: 2, username: 'reviewer' },
  },
  comment: {
    id: 9,
    issue: 4,
    message: 'The box is too loose.',
    owner: { id: 2, username: 'reviewer' },
  },
};

export const cvatBeforeUpdateExamples: Record<CvatResource, Record<string, unknown>> = {
  project: { name: 'Streets' },
  task: { name: 'Batch 2' },
  job: { state: 'new' },
  issue: { resolved: true },
  comment: { message: 'Box too loose' },
};
