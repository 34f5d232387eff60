import { pinListSchema, pinSchema, pinSlotParams, setPinInput } from '../../../domain/pins/pins.schemas';
import { route, type RouteDefinition } from '../route-definition';

export const pinsRoutes = {
  listPins: route({
    method: 'GET',
    path: '/v1/pins',
    group: 'pins',
    tag: 'Pins',
    summary: 'The caller’s pinned contacts (at most 5), in slot order, with their summaries',
    description:
      'Pins are private to their user. An archived contact stays pinned and shows `status: archived`.',
    auth: true,
    response: { status: 200, description: 'The pins', schema: pinListSchema },
  }),
  setPin: route({
    method: 'PUT',
    path: '/v1/pins/{slot}',
    group: 'pins',
    tag: 'Pins',
    summary: 'Pin a contact in slot 1–5',
    description:
      'A contact already pinned in another of your slots moves here (that slot is cleared); a contact already in this slot is replaced. A contact is never in two of your slots, even under concurrent requests.',
    auth: true,
    params: pinSlotParams,
    body: setPinInput,
    refusals: {
      404: '`route_not_found`: the slot segment is empty, `.` or `..`',
      422: '`invalid_reference`: `contactId` names no record of the workspace',
    },
    response: { status: 200, description: 'The pin', schema: pinSchema },
  }),
  clearPin: route({
    method: 'DELETE',
    path: '/v1/pins/{slot}',
    group: 'pins',
    tag: 'Pins',
    summary: 'Clear a pin slot (clearing an empty slot is fine)',
    auth: true,
    params: pinSlotParams,
    refusals: { 404: '`route_not_found`: the slot segment is empty, `.` or `..`' },
    response: { status: 204, description: 'The slot is empty' },
  }),
} as const satisfies Record<string, RouteDefinition>;
