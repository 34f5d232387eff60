import { roles } from '../shared/context';

/**
 * An API token, stored by the SHA-256 of its secret; the secret itself is never stored.
 * Access patterns:
 * - authenticate: pk TOKEN#<hash>, sk TOKEN (the one key that does not start with the workspace: it
 *   yields the workspace). Role and user status are copied here so a request costs one read; they are
 *   rewritten in the same transaction as any change to the user.
 * - list a workspace's tokens, or one user's: gsi1 pk WS#<workspaceId>#TOKENS, sk <userId>#<tokenId>
 * - find a token by id (to revoke it): gsi2 pk WS#<workspaceId>#TOKEN#<tokenId>
 */
export const apiTokenSchema = {
  model: { service: 'crm', entity: 'apiToken', version: '1' },
  attributes: {
    tokenHash: { type: 'string', required: true, readOnly: true },
    tokenId: { type: 'string', required: true, readOnly: true },
    workspaceId: { type: 'string', required: true, readOnly: true },
    userId: { type: 'string', required: true, readOnly: true },
    name: { type: 'string', required: true },
    /** The first characters of the token, so a user can tell their tokens apart. */
    prefix: { type: 'string', required: true, readOnly: true },
    role: { type: roles, required: true },
    userStatus: { type: ['active', 'deactivated'] as const, required: true, default: 'active' },
    createdAt: { type: 'string', required: true, readOnly: true },
    lastUsedAt: { type: 'string' },
    revokedAt: { type: 'string' },
  },
  indexes: {
    byHash: {
      pk: { field: 'pk', composite: ['tokenHash'], template: 'TOKEN#${tokenHash}', casing: 'none' },
      sk: { field: 'sk', composite: [], template: 'TOKEN', casing: 'none' },
    },
    byWorkspace: {
      index: 'gsi1',
      pk: { field: 'gsi1pk', composite: ['workspaceId'], template: 'WS#${workspaceId}#TOKENS', casing: 'none' },
      sk: { field: 'gsi1sk', composite: ['userId', 'tokenId'], template: '${userId}#${tokenId}', casing: 'none' },
    },
    byTokenId: {
      index: 'gsi2',
      pk: {
        field: 'gsi2pk',
        composite: ['workspaceId', 'tokenId'],
        template: 'WS#${workspaceId}#TOKEN#${tokenId}',
        casing: 'none',
      },
      sk: { field: 'gsi2sk', composite: [], template: 'TOKEN', casing: 'none' },
    },
  },
} as const;
