import { pageQuerySchema } from '../../../domain/shared/pagination';
import { addUserInput, updateUserInput, userIdParams, userSchema } from '../../../domain/users/users.schemas';
import { route, pageOf, type RouteDefinition } from '../route-definition';

export const usersRoutes = {
  listUsers: route({
    method: 'GET',
    path: '/v1/users',
    group: 'users',
    tag: 'Users',
    summary: "The workspace's users, oldest first",
    auth: true,
    query: pageQuerySchema,
    response: { status: 200, description: 'A page of users', schema: pageOf(userSchema, 'UserPage') },
  }),
  addUser: route({
    method: 'POST',
    path: '/v1/users',
    group: 'users',
    tag: 'Users',
    summary: 'Add a user (owner/admin; only an owner adds an owner)',
    auth: true,
    creates: true,
    versioned: true,
    body: addUserInput,
    refusals: {
      403: 'a member; an admin adding an owner',
      409: '`email_taken`: a user of the workspace has the email',
    },
    response: { status: 201, description: 'The new user', schema: userSchema },
  }),
  getUser: route({
    method: 'GET',
    path: '/v1/users/{userId}',
    group: 'users',
    tag: 'Users',
    summary: 'One user',
    auth: true,
    versioned: true,
    params: userIdParams,
    response: { status: 200, description: 'The user', schema: userSchema },
  }),
  updateUser: route({
    method: 'PATCH',
    path: '/v1/users/{userId}',
    group: 'users',
    tag: 'Users',
    summary: "Change a user's name, role or status",
    description:
      'A member may change only their own name. An admin manages admins and members; only an owner changes an owner or grants the owner role. The workspace always keeps one active owner. Deactivating a user disables their tokens.',
    auth: true,
    versioned: true,
    params: userIdParams,
    body: updateUserInput,
    refusals: {
      403: 'a member changing anyone but their own name; an admin changing an owner or granting the owner role',
      409: '`last_owner`: the last active owner would lose the role or be deactivated',
    },
    response: { status: 200, description: 'The updated user', schema: userSchema },
  }),
} as const satisfies Record<string, RouteDefinition>;
