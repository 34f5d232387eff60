import {
  assignTask,
  claimTask,
  completeTask,
  createTask,
  getTask,
  listAnchorTasks,
  listDueTasks,
  listMyTasks,
  listOverdueTasks,
  listPoolTasks,
  reopenTask,
  updateTask,
} from '../../domain/tasks/tasks.service';
import { createHttpHandler } from './http-handler';
import { tasksRoutes } from './routes/tasks.routes';

export const handler = createHttpHandler('tasks', tasksRoutes, {
  listAnchorTasks: ({ caller, query }, deps) => listAnchorTasks(deps, caller, query),
  listMyTasks: ({ caller, query }, deps) => listMyTasks(deps, caller, query),
  listPoolTasks: ({ caller, query }, deps) => listPoolTasks(deps, caller, query),
  listOverdueTasks: ({ caller, query }, deps) => listOverdueTasks(deps, caller, query),
  listDueTasks: ({ caller, query }, deps) => listDueTasks(deps, caller, query),
  createTask: ({ caller, body }, deps) => createTask(deps, caller, body),
  getTask: ({ caller, params }, deps) => getTask(deps, caller, params.taskId),
  updateTask: ({ caller, params, body, expectedVersion }, deps) =>
    updateTask(deps, caller, params.taskId, body, expectedVersion),
  claimTask: ({ caller, params, expectedVersion }, deps) =>
    claimTask(deps, caller, params.taskId, expectedVersion),
  assignTask: ({ caller, params, body, expectedVersion }, deps) =>
    assignTask(deps, caller, params.taskId, body, expectedVersion),
  completeTask: ({ caller, params, expectedVersion }, deps) =>
    completeTask(deps, caller, params.taskId, expectedVersion),
  reopenTask: ({ caller, params, expectedVersion }, deps) =>
    reopenTask(deps, caller, params.taskId, expectedVersion),
});
