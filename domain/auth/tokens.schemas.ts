import * as z from 'zod';
import { recordId } from '../shared/ids';
import { responseSchema, type ResponseOf } from '../shared/response-schema';

export const apiTokenSchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      userId: z.string(),
      name: z.string(),
      prefix: z.string().meta({ description: 'The first characters of the token, to tell tokens apart' }),
      createdAt: z.string(),
      lastUsedAt: z.string().nullable(),
      revokedAt: z.string().nullable(),
    })
    .meta({ id: 'ApiToken' }),
);
export type ApiToken = ResponseOf<typeof apiTokenSchema>;

export const createdApiTokenSchema = responseSchema(() =>
  apiTokenSchema()
    .extend({
      token: z.string().meta({ description: 'The secret. Shown once: it is stored only as a hash.' }),
    })
    .meta({ id: 'CreatedApiToken' }),
);

export const createTokenInput = z
  .object({
    name: z.string().trim().min(1).max(100).default('API token'),
    userId: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .meta({ description: 'Whose token; owner/admin only; defaults to the caller' }),
  })
  .meta({ id: 'CreateTokenInput' });
export type CreateTokenInput = z.infer<typeof createTokenInput>;

export const listTokensQuery = z.object({ userId: z.string().min(1).max(64).optional() });
export const tokenIdParams = z.object({ tokenId: recordId('tok', 'an API token') });
