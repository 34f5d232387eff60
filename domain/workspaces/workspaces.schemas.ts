import * as z from 'zod';
import { timeZoneSchema } from '../shared/time-zones';
import { userSchema } from '../users/users.schemas';
import { responseSchema, type ResponseOf } from '../shared/response-schema';

export const workspaceSchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      name: z.string(),
      timeZone: z.string().meta({
        description:
          'IANA time zone the workspace’s metrics count days in (default `UTC`); a change applies to events from then on',
      }),
      version: z.number().int(),
      createdAt: z.string(),
      updatedAt: z.string(),
    })
    .meta({ id: 'Workspace' }),
);
export type Workspace = ResponseOf<typeof workspaceSchema>;

export const updateWorkspaceInput = z
  .object({ name: z.string().trim().min(1).max(200).optional(), timeZone: timeZoneSchema.optional() })
  .refine((input) => input.name !== undefined || input.timeZone !== undefined, {
    message: 'Give `name`, `timeZone` or both',
  })
  .meta({ id: 'UpdateWorkspaceInput', minProperties: 1 });
export type UpdateWorkspaceInput = z.infer<typeof updateWorkspaceInput>;

export const meSchema = responseSchema(() =>
  z.object({ user: userSchema(), workspace: workspaceSchema() }).meta({ id: 'Me' }),
);

export const createWorkspaceInput = z.object({
  name: z.string().trim().min(1).max(200),
  ownerName: z.string().trim().min(1).max(200),
  ownerEmail: z.email().max(320),
});
export type CreateWorkspaceInput = z.infer<typeof createWorkspaceInput>;
