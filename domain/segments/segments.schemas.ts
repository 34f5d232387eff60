import * as z from 'zod';
import { contactSearchHitSchema, contactSummarySchema } from '../contacts/contacts.schemas';
import { recordId } from '../shared/ids';
import { pageQuerySchema } from '../shared/pagination';
import { maxDynamicSegments, membershipReasons, segmentKinds } from './segment.entity';
import { segmentRuleSchema } from './segment-rules';
import { responseSchema, type ResponseOf } from '../shared/response-schema';

export { maxDynamicSegments };
/** Contacts added to or removed from a static segment per request. */
export const maxMembersPerRequest = 500;

const segmentName = z.string().trim().min(1, 'Give the segment a name').max(120, 'At most 120 characters');
const segmentDescription = z.string().trim().max(1000, 'At most 1,000 characters');

const rule = segmentRuleSchema;

export const segmentIdParams = z.object({ segmentId: recordId('seg', 'a segment') });

export const segmentSchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      name: z.string(),
      description: z.string().nullable(),
      kind: z
        .enum(segmentKinds)
        .meta({
          description:
            '`static`: members added and removed by hand; `dynamic`: the contacts its rule matches',
        }),
      // A union, not .nullable(): the generator drops the null of a nullable recursive reference.
      rule: z
        .union([rule, z.null()])
        .meta({ description: 'The rule of a dynamic segment; null on a static one' }),
      ruleVersion: z.number().int().meta({ description: 'Grows with each change of the rule' }),
      memberCount: z
        .number()
        .int()
        .meta({ description: 'Members now: kept in the transaction of every join and leave' }),
      computing: z.boolean().meta({
        description:
          'A dynamic segment’s rule is being applied to every contact (just created or changed): members join and leave while it runs',
      }),
      computedAt: z
        .string()
        .nullable()
        .meta({ description: 'When the rule was last applied to every contact' }),
      computeJobId: z
        .string()
        .nullable()
        .meta({ description: 'The job applying the rule now (`GET /v1/jobs/{id}` shows its progress)' }),
      createdBy: z.string(),
      createdAt: z.string(),
      updatedAt: z.string(),
      version: z.number().int(),
    })
    .meta({ id: 'Segment' }),
);
export type Segment = ResponseOf<typeof segmentSchema>;

export const listSegmentsQuery = pageQuerySchema.extend({
  kind: z.enum(segmentKinds).optional().meta({ description: 'Only static or only dynamic segments' }),
});
export type ListSegmentsQuery = z.infer<typeof listSegmentsQuery>;

export const createSegmentInput = z
  .object({
    name: segmentName,
    description: segmentDescription.optional(),
    kind: z.enum(segmentKinds),
    rule: rule.optional(),
  })
  .strict()
  .superRefine((input, ctx) => {
    if (input.kind === 'dynamic' && input.rule === undefined)
      ctx.addIssue({ code: 'custom', path: ['rule'], message: 'A dynamic segment needs a rule' });
    if (input.kind === 'static' && input.rule !== undefined)
      ctx.addIssue({ code: 'custom', path: ['rule'], message: 'A static segment has no rule' });
  })
  .meta({ id: 'CreateSegmentInput' });
export type CreateSegmentInput = z.infer<typeof createSegmentInput>;

export const updateSegmentInput = z
  .object({
    name: segmentName.optional(),
    description: segmentDescription.nullable().optional().meta({ description: 'null or empty clears it' }),
    rule: rule
      .nullable()
      .optional()
      .meta({ description: 'A dynamic segment’s new rule; null (a static segment’s, as read) changes nothing on a static segment' }),
  })
  .strict()
  .refine((input) => Object.keys(input).length > 0, {
    message: 'Give at least one of name, description, rule',
  })
  .meta({ id: 'UpdateSegmentInput', minProperties: 1 });
export type UpdateSegmentInput = z.infer<typeof updateSegmentInput>;

export const listMembersQuery = pageQuerySchema.extend({
  sort: z
    .enum(['joined', 'name'])
    .default('joined')
    .meta({ description: '`joined`: latest first; `name`: A to Z' }),
});
export type ListMembersQuery = z.infer<typeof listMembersQuery>;

export const segmentMemberSchema = responseSchema(() =>
  z
    .object({
      contact: contactSearchHitSchema(),
      joinedAt: z.string(),
      reason: z.enum(membershipReasons).meta({ description: 'Why the contact joined' }),
    })
    .meta({ id: 'SegmentMember' }),
);
export type SegmentMember = ResponseOf<typeof segmentMemberSchema>;

export const memberIdsInput = z
  .object({
    contactIds: z
      .array(recordId('ct', 'a contact'))
      .min(1)
      .max(maxMembersPerRequest, `At most ${maxMembersPerRequest} contacts per request`)
      .meta({ description: `1–${maxMembersPerRequest} contact ids; repeats count once` }),
  })
  .strict()
  .meta({ id: 'SegmentMemberIds' });
export type MemberIdsInput = z.infer<typeof memberIdsInput>;

export const membersChangeSchema = responseSchema(() =>
  z
    .object({
      changed: z.array(z.string()).meta({ description: 'Contacts that joined (add) or left (remove)' }),
      unchanged: z
        .array(z.string())
        .meta({ description: 'Contacts already in (add) or already out (remove)' }),
      notFound: z
        .array(z.string())
        .meta({ description: 'Ids of no contact of the workspace, or of a contact merged into another' }),
      memberCount: z.number().int(),
    })
    .meta({ id: 'SegmentMembersChange' }),
);
export type MembersChange = ResponseOf<typeof membersChangeSchema>;

export const previewInput = z.object({ rule }).strict().meta({ id: 'SegmentPreviewInput' });
export type PreviewInput = z.infer<typeof previewInput>;

export const previewSchema = responseSchema(() =>
  z
    .object({
      count: z
        .number()
        .int()
        .meta({ description: 'Contacts the rule matches (of those read: all of them when `complete`)' }),
      scanned: z.number().int().meta({ description: 'Contacts read' }),
      complete: z
        .boolean()
        .meta({
          description:
            'false when the workspace has more contacts than one request reads: `count` is then a lower bound',
        }),
      sample: z.array(contactSummarySchema()).meta({ description: 'Up to 10 matching contacts' }),
    })
    .meta({ id: 'SegmentPreview' }),
);
export type Preview = ResponseOf<typeof previewSchema>;

export const contactSegmentSchema = responseSchema(() =>
  z
    .object({
      segmentId: z.string(),
      name: z.string(),
      kind: z.enum(segmentKinds),
      joinedAt: z.string(),
      reason: z.enum(membershipReasons),
    })
    .meta({ id: 'ContactSegment' }),
);
export const contactSegmentsSchema = responseSchema(() =>
  z.object({ items: z.array(contactSegmentSchema()) }).meta({ id: 'ContactSegments' }),
);
export type ContactSegments = ResponseOf<typeof contactSegmentsSchema>;
