/**
 * The catalog of job kinds. Jobs carry ids only: the worker re-reads the delivery row, so a
 * job that arrives twice, or late, for a delivery that is already finished does nothing.
 */
export const JOB_NAMES = {
  deliver: 'deliver',
} as const;

export type JobName = (typeof JOB_NAMES)[keyof typeof JOB_NAMES];

export interface DeliverJobData {
  deliveryId: string;
  /** 1-based attempt this job is meant to perform; a stale duplicate is recognised by it. */
  attempt: number;
  /** The delivery's webhook, so admission needs no database read (absent on jobs queued by older versions). */
  webhookId?: string;
  /** 1 when the job was queued holding its webhook's slot (a lease granted in the line). */
  leased?: 1;
  /** 1 for a test ping: attempted at once, outside its webhook's line (it may exceed the cap by one). */
  test?: 1;
}

export interface JobDataByName {
  deliver: DeliverJobData;
}

/**
 * One job id per (delivery, attempt): adding the same attempt twice (ingest racing the
 * sweeper, a retried request) is a no-op in BullMQ. BullMQ forbids ':' in custom ids.
 */
export function deliverJobId(deliveryId: string, attempt: number): string {
  return `${deliveryId}-a${attempt}`;
}
