import * as z from 'zod';
import { confidenceValue, reasonsValue } from '../contacts/scoring.schemas';
import { recordId } from '../shared/ids';

/**
 * The qualification keys a classifier answers with: seed 001's qualification kinds (lead, prospect,
 * customer, not_a_fit) and two an inbox needs to tell apart (support: an existing customer's problem;
 * spam). Users may still write any custom key by hand.
 */
export const classificationKinds = ['lead', 'prospect', 'customer', 'support', 'spam', 'not_a_fit'] as const;
export type ClassificationKind = (typeof classificationKinds)[number];

/** A classifier's answer, as every adapter must give it (the Bedrock tool's input schema is made from this). */
export const classificationSchema = z.object({
  kind: z.enum(classificationKinds).describe('The qualification that fits the contact best, judged from the conversation'),
  score: z.number().int().min(1).max(5).optional().describe('How strongly the kind applies: 1 (barely) to 5 (clearly)'),
  confidence: confidenceValue.describe('How sure you are of the kind: 0 (a guess) to 1 (certain)'),
  reasons: reasonsValue.min(1).describe('One to five short sentences quoting or citing what in the conversation led to the kind'),
  criteria: z
    .array(
      z.object({
        id: z.string().min(1).max(100).describe('The id of a criterion you were asked to rate'),
        value: z.number().int().min(1).max(5).describe('How well the contact meets it: 1 (not at all) to 5 (fully)'),
        evidence: z.string().min(1).max(500).describe('What in the conversation or profile shows it, quoted or cited'),
      }),
    )
    .max(50)
    .optional()
    .describe('Only when criteria are listed: a rating of each one the conversation or profile says something about'),
});
export type ClassificationAnswer = z.infer<typeof classificationSchema>;

/** How many of a conversation's latest messages a classifier reads (notes left out). */
export const classifiedMessages = 30;
/** How much of each message a classifier reads: enough for intent, bounded for a model's context. */
export const classifiedMessageChars = 2_000;

export const classifyConversationInput = z
  .object({
    contact: z
      .boolean()
      .default(false)
      .meta({ description: 'Also write the answer as the contact’s qualification (needs the right to change the contact)' }),
  })
  .meta({ id: 'ClassifyConversationInput' });
export type ClassifyConversationInput = z.infer<typeof classifyConversationInput>;

export const classifySegmentInput = z
  .object({
    segmentId: recordId('seg', 'a segment').meta({ description: 'Classify the latest conversation of each member of this segment' }),
    contact: z
      .boolean()
      .default(false)
      .meta({ description: 'Also write each answer as the member’s qualification' }),
  })
  .meta({ id: 'ClassifySegmentInput' });
export type ClassifySegmentInput = z.infer<typeof classifySegmentInput>;

/**
 * The `classify_conversation` job: one conversation (on request, or after inbound messages), or the
 * latest conversation of every member of a segment (continuing itself from the members' cursor).
 */
export const classifyJobInput = z.discriminatedUnion('mode', [
  z.object({
    mode: z.literal('conversation'),
    conversationId: z.string(),
    contact: z.boolean(),
    /** `inbound`: no user asked, so every manual qualification is kept, however old. */
    trigger: z.enum(['request', 'inbound']),
    /** When classification was asked for: a manual qualification written since then is kept. */
    requestedAt: z.string(),
  }),
  z.object({ mode: z.literal('segment'), segmentId: z.string(), contact: z.boolean(), requestedAt: z.string() }),
]);
export type ClassifyJobInput = z.infer<typeof classifyJobInput>;
