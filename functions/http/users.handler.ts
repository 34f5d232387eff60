import { addUser, getUser, listUsers, updateUser } from '../../domain/users/users.service';
import { createHttpHandler } from './http-handler';
import { usersRoutes } from './routes/users.routes';

export const handler = createHttpHandler('users', usersRoutes, {
  listUsers: ({ caller, query }, deps) => listUsers(deps, caller, query),
  addUser: ({ caller, body }, deps) => addUser(deps, caller, body),
  getUser: ({ caller, params }, deps) => getUser(deps, caller, params.userId),
  updateUser: ({ caller, params, body, expectedVersion }, deps) =>
    updateUser(deps, caller, params.userId, body, expectedVersion),
});
