import {
  changeStaticMembers,
  createSegment,
  deleteSegment,
  getSegment,
  listContactSegments,
  listMembers,
  listSegments,
  previewRule,
  updateSegment,
} from '../../domain/segments/segments.service';
import { createHttpHandler, RawResponse } from './http-handler';
import { segmentsRoutes } from './routes/segments.routes';

export const handler = createHttpHandler('segments', segmentsRoutes, {
  listSegments: ({ caller, query }, deps) => listSegments(deps, caller, query),
  createSegment: ({ caller, body }, deps) => createSegment(deps, caller, body),
  previewSegment: ({ caller, body }, deps) => previewRule(deps, caller, body.rule),
  getSegment: ({ caller, params }, deps) => getSegment(deps, caller, params.segmentId),
  updateSegment: ({ caller, params, body, expectedVersion }, deps) => updateSegment(deps, caller, params.segmentId, body, expectedVersion),
  deleteSegment: async ({ caller, params, expectedVersion }, deps) => {
    await deleteSegment(deps, caller, params.segmentId, expectedVersion);
    return new RawResponse(204, '');
  },
  listSegmentMembers: ({ caller, params, query }, deps) => listMembers(deps, caller, params.segmentId, query),
  addSegmentMembers: ({ caller, params, body }, deps) => changeStaticMembers(deps, caller, params.segmentId, body, 'add'),
  removeSegmentMembers: ({ caller, params, body }, deps) => changeStaticMembers(deps, caller, params.segmentId, body, 'remove'),
  listContactSegments: ({ caller, params }, deps) => listContactSegments(deps, caller, params.contactId),
});
