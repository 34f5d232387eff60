import * as z from 'zod';
import { recordId } from '../shared/ids';
import { roles } from '../shared/context';
import { responseSchema, type ResponseOf } from '../shared/response-schema';

export const roleSchema = z
  .enum(roles)
  .meta({
    description:
      'owner and admin read and write workspace-wide; a member writes only what they own or nobody has claimed',
  });

export const userSchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      name: z.string(),
      email: z.string(),
      role: roleSchema,
      status: z.enum(['active', 'deactivated']),
      version: z.number().int(),
      createdAt: z.string(),
      updatedAt: z.string(),
    })
    .meta({ id: 'User' }),
);
export type User = ResponseOf<typeof userSchema>;

const name = z.string().trim().min(1).max(200);

export const addUserInput = z
  .object({
    name,
    email: z.email().max(320),
    role: roleSchema.default('member'),
  })
  .meta({ id: 'AddUserInput' });
export type AddUserInput = z.infer<typeof addUserInput>;

export const updateUserInput = z
  .object({
    name: name.optional(),
    role: roleSchema.optional(),
    status: z.enum(['active', 'deactivated']).optional(),
  })
  .refine((input) => Object.values(input).some((value) => value !== undefined), {
    message: 'Give at least one of name, role, status',
  })
  .meta({ id: 'UpdateUserInput', minProperties: 1 });
export type UpdateUserInput = z.infer<typeof updateUserInput>;

export const userIdParams = z.object({ userId: recordId('usr', 'a user') });
