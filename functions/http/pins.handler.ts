import { clearPin, listPins, setPin } from '../../domain/pins/pins.service';
import { createHttpHandler, RawResponse } from './http-handler';
import { pinsRoutes } from './routes/pins.routes';

export const handler = createHttpHandler('pins', pinsRoutes, {
  listPins: ({ caller }, deps) => listPins(deps, caller),
  setPin: ({ caller, params, body }, deps) => setPin(deps, caller, params.slot, body.contactId),
  clearPin: async ({ caller, params }, deps) => {
    await clearPin(deps, caller, params.slot);
    return new RawResponse(204, '');
  },
});
