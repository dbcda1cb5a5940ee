/** Every queue Hooklane uses. One queue today; named here so producers and consumers agree. */
export const QUEUE_NAMES = {
  deliveries: 'deliveries',
} as const;

export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];
