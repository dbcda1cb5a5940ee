export { createDb, type Db, type DbOptions } from './client.js';
export { Prisma, PrismaClient, RetryBackoff, DeliveryStatus } from './generated/prisma/client.js';
export type { ApiKey, Webhook, Event, Delivery, Attempt } from './generated/prisma/client.js';
