import { createToken, listTokens, revokeToken } from '../../domain/auth/tokens.service';
import { createHttpHandler } from './http-handler';

export const handler = createHttpHandler('tokens', {
  listTokens: ({ caller, query }, deps) => listTokens(deps, caller, query),
  createToken: ({ caller, body }, deps) => createToken(deps, caller, body),
  revokeToken: ({ caller, params }, deps) => revokeToken(deps, caller, params.tokenId),
});
