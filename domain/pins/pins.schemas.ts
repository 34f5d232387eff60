import * as z from 'zod';
import { contactSummarySchema } from '../contacts/contacts.schemas';
import { responseSchema, type ResponseOf } from '../shared/response-schema';

/** Seed 001: "max 5 in UI". The slots are the keys, so a user never holds more than this many pins. */
export const maxPinSlots = 5;

export const pinSlotParams = z.object({
  slot: z.coerce
    .number()
    .int()
    .min(1)
    .max(maxPinSlots)
    .meta({ description: `A slot from 1 to ${maxPinSlots}` }),
});

export const setPinInput = z.object({ contactId: z.string().min(1).max(64) }).meta({ id: 'SetPinInput' });
export type SetPinInput = z.infer<typeof setPinInput>;

export const pinSchema = responseSchema(() =>
  z
    .object({
      slot: z.number().int(),
      contactId: z.string(),
      contact: contactSummarySchema()
        .nullable()
        .meta({ description: 'The pinned contact (archived ones stay pinned)' }),
      pinnedAt: z
        .string()
        .meta({ description: 'When the contact was pinned; a move to another slot keeps it' }),
      updatedAt: z.string(),
    })
    .meta({ id: 'Pin' }),
);
export type Pin = ResponseOf<typeof pinSchema>;

export const pinListSchema = responseSchema(() =>
  z.object({ items: z.array(pinSchema()) }).meta({ id: 'PinList' }),
);
