import { z } from 'zod';
import { userSchema } from '../users/users.schemas';

export const workspaceSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    version: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Workspace' });
export type Workspace = z.infer<typeof workspaceSchema>;

export const updateWorkspaceInput = z
  .object({ name: z.string().trim().min(1).max(200) })
  .meta({ id: 'UpdateWorkspaceInput' });

export const meSchema = z.object({ user: userSchema, workspace: workspaceSchema }).meta({ id: 'Me' });

export const createWorkspaceInput = z.object({
  name: z.string().trim().min(1).max(200),
  ownerName: z.string().trim().min(1).max(200),
  ownerEmail: z.email().max(320),
});
export type CreateWorkspaceInput = z.infer<typeof createWorkspaceInput>;
