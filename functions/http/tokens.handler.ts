import { createToken, listTokens, revokeToken } from '../../domain/auth/tokens.service';
import { createHttpHandler } from './http-handler';
import { tokensRoutes } from './routes/tokens.routes';

export const handler = createHttpHandler('tokens', tokensRoutes, {
  listTokens: ({ caller, query }, deps) => listTokens(deps, caller, query),
  createToken: ({ caller, body }, deps) => createToken(deps, caller, body),
  revokeToken: ({ caller, params }, deps) => revokeToken(deps, caller, params.tokenId),
});
