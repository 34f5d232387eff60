import { roles } from '../shared/context';

/**
 * Access patterns:
 * - get a user: pk WS#<workspaceId>, sk USER#<userId>
 * - list a workspace's users (by id, i.e. by creation time): pk WS#<workspaceId>, sk begins_with USER#
 * Email uniqueness per workspace is held by a guard item (see unique-guard.entity.ts).
 */
export const userSchema = {
  model: { service: 'crm', entity: 'user', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    userId: { type: 'string', required: true, readOnly: true },
    name: { type: 'string', required: true },
    email: { type: 'string', required: true },
    role: { type: roles, required: true },
    status: { type: ['active', 'deactivated'] as const, required: true, default: 'active' },
    version: { type: 'number', required: true, default: 1 },
    /** Hashes of the user's active tokens, so a role change can rewrite them in one transaction. */
    tokenHashes: { type: 'set', items: 'string' },
    /** Bumped whenever tokenHashes changes; a role change is conditional on it. */
    tokenSetVersion: { type: 'number', required: true, default: 0 },
    createdAt: { type: 'string', required: true, readOnly: true },
    updatedAt: { type: 'string', required: true },
  },
  indexes: {
    byId: {
      pk: { field: 'pk', composite: ['workspaceId'], template: 'WS#${workspaceId}', casing: 'none' },
      sk: { field: 'sk', composite: ['userId'], template: 'USER#${userId}', casing: 'none' },
    },
  },
} as const;
