/**
 * Segments (seed 000 CustomerSegment: "membership; static or dynamic").
 *
 * - A segment: pk WS#<ws>#SEGMENTS, sk SEG#<segmentId>. Every segment of a workspace is one Query
 *   (the stream consumer reads them to evaluate a contact change); `memberCount` is ADDed in the
 *   transaction of every membership change. Dynamic segments whose answer moves with time alone
 *   (relative dates, company fields) carry gsi4 keys: pk SEGMENTS#DRIFTING, sk <ws>#<segmentId> (the
 *   schedule finds the workspaces to recompute).
 * - A member: pk WS#<ws>#SEGMENT#<segmentId>, sk MEMBER#<contactId> (GetItem, delete); by join time
 *   (gsi1 pk WS#<ws>#SEGMENT#<segmentId>#J, sk <joinedAt>#<contactId>) and by name (gsi2 pk
 *   WS#<ws>#SEGMENT#<segmentId>#N, sk <name key>#<contactId>): a page of members is one Query. It
 *   carries the contact's summary, rewritten when the summary changes.
 * - A contact's memberships: pk WS#<ws>#CONTACT#<contactId> (the contact's partition), sk SEGMENTS: the
 *   segments it is in, with the contact version they were evaluated at. On gsi3 beside the contact
 *   item (pk WS#<ws>#CONTACTS, sk <contactId>#S after the contact's <contactId>#C), so a recompute reads
 *   every contact and its memberships in one pass of Queries.
 */
export const segmentKinds = ['static', 'dynamic'] as const;
/** A workspace holds at most this many dynamic segments: each contact change is evaluated against them all. */
export const maxDynamicSegments = 100;
export type SegmentKind = (typeof segmentKinds)[number];

export const segmentSchema = {
  model: { service: 'crm', entity: 'segment', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    segmentId: { type: 'string', required: true, readOnly: true },
    name: { type: 'string', required: true },
    description: { type: 'string' },
    kind: { type: segmentKinds, required: true, readOnly: true },
    /** The rule of a dynamic segment (domain/segments/segment-rules.ts). */
    rule: { type: 'any' },
    /** Grows with every change of the rule: a recompute names the rule it applies. */
    ruleVersion: { type: 'number', required: true },
    memberCount: { type: 'number', required: true },
    /** The last full evaluation of the rule: when it ended, and the job doing the next. */
    computedAt: { type: 'string' },
    computeJobId: { type: 'string' },
    driftScope: { type: 'string' },
    driftKey: { type: 'string' },
    /** A dynamic segment's slot under the workspace's cap (its guard item goes with the segment). */
    slot: { type: 'number', readOnly: true },
    createdBy: { type: 'string', required: true, readOnly: true },
    version: { type: 'number', required: true },
    createdAt: { type: 'string', required: true, readOnly: true },
    updatedAt: { type: 'string', required: true },
  },
  indexes: {
    byWorkspace: {
      pk: { field: 'pk', composite: ['workspaceId'], template: 'WS#${workspaceId}#SEGMENTS', casing: 'none' },
      sk: { field: 'sk', composite: ['segmentId'], template: 'SEG#${segmentId}', casing: 'none' },
    },
    drifting: {
      index: 'gsi4',
      condition: (attr: { driftScope?: string }) => attr.driftScope !== undefined,
      pk: { field: 'gsi4pk', composite: ['driftScope'], template: '${driftScope}', casing: 'none' },
      sk: { field: 'gsi4sk', composite: ['driftKey'], template: '${driftKey}', casing: 'none' },
    },
  },
} as const;

/** Why a contact joined or left a segment (the events' `reason`). */
export const membershipReasons = ['contact_change', 'rule_change', 'recompute', 'manual', 'contact_merged'] as const;
export type MembershipReason = (typeof membershipReasons)[number];

export const segmentMemberSchema = {
  model: { service: 'crm', entity: 'segmentMember', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    segmentId: { type: 'string', required: true, readOnly: true },
    contactId: { type: 'string', required: true, readOnly: true },
    joinedAt: { type: 'string', required: true, readOnly: true },
    reason: { type: membershipReasons, required: true, readOnly: true },
    nameKey: { type: 'string', required: true },
    /** The contact's search hit (its summary without `updatedAt`: a change of the contact alone does not rewrite it). */
    summary: { type: 'any', required: true },
  },
  indexes: {
    byKey: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'segmentId'],
        template: 'WS#${workspaceId}#SEGMENT#${segmentId}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: ['contactId'], template: 'MEMBER#${contactId}', casing: 'none' },
    },
    byJoined: {
      index: 'gsi1',
      pk: {
        field: 'gsi1pk',
        composite: ['workspaceId', 'segmentId'],
        template: 'WS#${workspaceId}#SEGMENT#${segmentId}#J',
        casing: 'none',
      },
      sk: { field: 'gsi1sk', composite: ['joinedAt', 'contactId'], template: '${joinedAt}#${contactId}', casing: 'none' },
    },
    byName: {
      index: 'gsi2',
      pk: {
        field: 'gsi2pk',
        composite: ['workspaceId', 'segmentId'],
        template: 'WS#${workspaceId}#SEGMENT#${segmentId}#N',
        casing: 'none',
      },
      sk: { field: 'gsi2sk', composite: ['nameKey', 'contactId'], template: '${nameKey}#${contactId}', casing: 'none' },
    },
  },
} as const;

export const contactSegmentsSchema = {
  model: { service: 'crm', entity: 'contactSegments', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    contactId: { type: 'string', required: true, readOnly: true },
    /** segmentId -> when the contact joined it. */
    segments: { type: 'any', required: true },
    /** The contact's version these memberships were last evaluated at: an older change never overwrites them. */
    contactVersion: { type: 'number', required: true },
    version: { type: 'number', required: true },
    updatedAt: { type: 'string', required: true },
  },
  indexes: {
    byContact: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'contactId'],
        template: 'WS#${workspaceId}#CONTACT#${contactId}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: [], template: 'SEGMENTS', casing: 'none' },
    },
    allContacts: {
      index: 'gsi3',
      pk: { field: 'gsi3pk', composite: ['workspaceId'], template: 'WS#${workspaceId}#CONTACTS', casing: 'none' },
      sk: { field: 'gsi3sk', composite: ['contactId'], template: '${contactId}#S', casing: 'none' },
    },
  },
} as const;
