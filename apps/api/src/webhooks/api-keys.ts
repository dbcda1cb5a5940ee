import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { teamIdSchema } from './schemas.js';

/** Team keys look like `hlk_<43 base64url chars>`: 256 random bits, recognisable in a leak scan. */
export const API_KEY_PREFIX = 'hlk_';

export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('base64url');
}

export const createApiKeySchema = z.strictObject({ team_id: teamIdSchema }).meta({ id: 'ApiKeyCreate' });

export const createdApiKeySchema = z
  .object({
    id: z.string().meta({ examples: ['key_01JKA8W5Q0V3M4N5P6R7S8T9V0'] }),
    team_id: z.int(),
    key: z.string().meta({ description: 'Shown once; only its SHA-256 hash is stored' }),
  })
  .meta({ id: 'ApiKey' });
