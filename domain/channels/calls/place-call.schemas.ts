import * as z from 'zod';
import { countryCode } from '../../contacts/contacts.schemas';
import { recordId } from '../../shared/ids';

export const placePhoneCallInput = z
  .object({
    agentPhone: z.string().trim().min(3).max(40).meta({
      description: 'The caller’s own phone, which rings once the contact answers (E.164, or national with `defaultCountry`)',
      example: '+14155550123',
    }),
    defaultCountry: countryCode.optional(),
    to: z.string().trim().min(3).max(40).optional().meta({
      description: 'The contact’s number to call: one of their phone values (default: the one they last wrote from on this SMS thread, else their primary phone)',
    }),
    connectionId: recordId('chc', 'a channel connection')
      .optional()
      .meta({ description: 'The SMS (Twilio) connection to call through (default: the workspace’s oldest active one)' }),
  })
  .meta({ id: 'PlacePhoneCallInput' });
export type PlacePhoneCallInput = z.infer<typeof placePhoneCallInput>;
