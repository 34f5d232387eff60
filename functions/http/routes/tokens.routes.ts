import {
  apiTokenSchema,
  createdApiTokenSchema,
  createTokenInput,
  listTokensQuery,
  tokenIdParams,
} from '../../../domain/auth/tokens.schemas';
import { pageQuerySchema } from '../../../domain/shared/pagination';
import { route, pageOf, type RouteDefinition } from '../route-definition';

export const tokensRoutes = {
  listTokens: route({
    method: 'GET',
    path: '/v1/tokens',
    group: 'tokens',
    tag: 'API tokens',
    summary: "The caller's API tokens (owner/admin: anyone's, or all)",
    auth: true,
    query: pageQuerySchema.extend(listTokensQuery.shape),
    refusals: { 403: "a member asking for another user's tokens" },
    response: {
      status: 200,
      description: 'A page of tokens (never their secrets)',
      schema: pageOf(apiTokenSchema, 'ApiTokenPage'),
    },
  }),
  createToken: route({
    location: false,
    method: 'POST',
    path: '/v1/tokens',
    group: 'tokens',
    tag: 'API tokens',
    summary: 'Create an API token; its secret is shown once',
    auth: true,
    creates: true,
    secretShownOnce: 'token',
    body: createTokenInput,
    refusals: {
      403: "a member minting a token for another user, or an admin minting an owner's",
      409: '`user_deactivated`: the user is deactivated; `secret_shown_once`: an Idempotency-Key repeat of a request that made a token (its secret is not shown again: revoke it and make another)',
      422: '`invalid_reference`: `userId` names no record of the workspace; `limit_exceeded`: the user has the most tokens allowed',
    },
    response: { status: 201, description: 'The token with its secret', schema: createdApiTokenSchema },
  }),
  revokeToken: route({
    method: 'DELETE',
    path: '/v1/tokens/{tokenId}',
    group: 'tokens',
    tag: 'API tokens',
    summary: "Revoke an API token (your own; owner/admin: any, but an owner's only by an owner)",
    auth: true,
    params: tokenIdParams,
    refusals: { 403: "an admin revoking an owner's token" },
    response: { status: 200, description: 'The revoked token', schema: apiTokenSchema },
  }),
} as const satisfies Record<string, RouteDefinition>;
