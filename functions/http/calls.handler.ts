import { createHttpHandler } from './http-handler';

export const handler = createHttpHandler('calls', {});
