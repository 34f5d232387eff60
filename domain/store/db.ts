import { botConversationSchema, botSettingsSchema } from '../bot/bot.entity';
import { contactFitSchema, fitAssessmentSchema, leadReviewSchema, productSchema } from '../fit/fit.entity';
import { contactSegmentsSchema, segmentMemberSchema, segmentSchema } from '../segments/segment.entity';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createWriteTransaction, Entity, type Schema, type Service } from 'electrodb';
import { apiTokenSchema } from '../auth/api-token.entity';
import { companyNameWordSchema, companySchema } from '../companies/company.entity';
import { contactListEntrySchema, contactSchema, contactSearchTokenSchema } from '../contacts/contact.entity';
import { contactQualificationSchema, contactScoreSchema } from '../contacts/scoring.entity';
import { contactPinSchema } from '../pins/pin.entity';
import { customFieldSchema } from '../custom-fields/custom-field.entity';
import { noteRevisionSchema, noteSchema } from '../notes/note.entity';
import { taskSchema } from '../tasks/task.entity';
import { dealListEntrySchema, dealSchema } from '../deals/deal.entity';
import { idempotencyRecordSchema } from '../idempotency/idempotency-record.entity';
import { pipelineSchema, stageStatsSchema } from '../pipelines/pipeline.entity';
import { tagSchema } from '../tags/tag.entity';
import { userSchema } from '../users/user.entity';
import { workspaceSchema } from '../workspaces/workspace.entity';
import { eventSchema } from '../../events/event.entity';
import { streamReceiptSchema } from '../../events/stream-receipt.entity';
import { feedEntrySchema, feedHeadSchema } from '../../events/feed.entity';
import { uniqueGuardSchema } from './unique-guard.entity';
import {
  conversationCountSchema,
  conversationListEntrySchema,
  conversationQualificationSchema,
  conversationSchema,
  conversationScoreSchema,
  messageAuthorMoveSchema,
  messageReceiptSchema,
  messageSchema,
  unreadCounterSchema,
  unreadTotalsSchema,
} from '../inbox/inbox.entity';
import { attachmentSchema } from '../inbox/attachment.entity';
import { callSchema } from '../inbox/call.entity';
import { jobSchema } from '../jobs/job.entity';
import { importErrorSchema, importRowSchema } from '../imports/import-row.entity';
import { channelConnectionSchema } from '../channels/connections/channel-connection.entity';
import {
  pendingProviderStatusSchema,
  providerMessageRefSchema,
} from '../channels/deliveries/provider-message-ref.entity';
import { webhookReceiptSchema } from '../channels/inbound/webhook-receipt.entity';
import {
  assignmentPassStateSchema,
  assignmentRuleSchema,
  assignmentWaitSchema,
} from '../assignment/assignment-rule.entity';
import { webhookDeliverySchema, webhookSubscriptionSchema } from '../webhooks/webhook.entity';
import { builtOnFirstUse } from '../shared/built-on-first-use';
import { PrecheckedEntity } from './prechecked-entity';

export interface CreateDbOptions {
  /** Run ElectroDB's own model checks (the test of the models; see {@link PrecheckedEntity}). */
  checkModels?: boolean;
}

type EntityBuilder = <A extends string, F extends string, C extends string, S extends Schema<A, F, C>>(
  schema: S,
) => Entity<A, F, C, S>;

/** Every entity of the table, by name: how each is built. */
const entityBuilders = (entity: EntityBuilder) => ({
  workspace: () => entity(workspaceSchema),
  user: () => entity(userSchema),
  apiToken: () => entity(apiTokenSchema),
  idempotencyRecord: () => entity(idempotencyRecordSchema),
  uniqueGuard: () => entity(uniqueGuardSchema),
  event: () => entity(eventSchema),
  streamReceipt: () => entity(streamReceiptSchema),
  feedEntry: () => entity(feedEntrySchema),
  feedHead: () => entity(feedHeadSchema),
  company: () => entity(companySchema),
  companyNameWord: () => entity(companyNameWordSchema),
  contact: () => entity(contactSchema),
  contactListEntry: () => entity(contactListEntrySchema),
  contactSearchToken: () => entity(contactSearchTokenSchema),
  contactScore: () => entity(contactScoreSchema),
  contactQualification: () => entity(contactQualificationSchema),
  contactPin: () => entity(contactPinSchema),
  customField: () => entity(customFieldSchema),
  note: () => entity(noteSchema),
  noteRevision: () => entity(noteRevisionSchema),
  task: () => entity(taskSchema),
  pipeline: () => entity(pipelineSchema),
  stageStats: () => entity(stageStatsSchema),
  deal: () => entity(dealSchema),
  dealListEntry: () => entity(dealListEntrySchema),
  tag: () => entity(tagSchema),
  conversation: () => entity(conversationSchema),
  conversationListEntry: () => entity(conversationListEntrySchema),
  conversationCount: () => entity(conversationCountSchema),
  conversationScore: () => entity(conversationScoreSchema),
  conversationQualification: () => entity(conversationQualificationSchema),
  message: () => entity(messageSchema),
  messageAuthorMove: () => entity(messageAuthorMoveSchema),
  messageReceipt: () => entity(messageReceiptSchema),
  unreadCounter: () => entity(unreadCounterSchema),
  unreadTotals: () => entity(unreadTotalsSchema),
  attachment: () => entity(attachmentSchema),
  call: () => entity(callSchema),
  job: () => entity(jobSchema),
  importRow: () => entity(importRowSchema),
  importError: () => entity(importErrorSchema),
  channelConnection: () => entity(channelConnectionSchema),
  providerMessageRef: () => entity(providerMessageRefSchema),
  pendingProviderStatus: () => entity(pendingProviderStatusSchema),
  webhookReceipt: () => entity(webhookReceiptSchema),
  segment: () => entity(segmentSchema),
  segmentMember: () => entity(segmentMemberSchema),
  contactSegments: () => entity(contactSegmentsSchema),
  product: () => entity(productSchema),
  fitAssessment: () => entity(fitAssessmentSchema),
  contactFit: () => entity(contactFitSchema),
  leadReview: () => entity(leadReviewSchema),
  assignmentRule: () => entity(assignmentRuleSchema),
  assignmentWait: () => entity(assignmentWaitSchema),
  assignmentPassState: () => entity(assignmentPassStateSchema),
  webhookSubscription: () => entity(webhookSubscriptionSchema),
  webhookDelivery: () => entity(webhookDeliverySchema),
  botSettings: () => entity(botSettingsSchema),
  botConversation: () => entity(botConversationSchema),
});

type EntityBuilders = ReturnType<typeof entityBuilders>;
export type Entities = { readonly [K in keyof EntityBuilders]: ReturnType<EntityBuilders[K]> };

/** The name of every entity of the table. */
export const entityNames = Object.keys(entityBuilders(() => undefined as never)) as (keyof Entities)[];

/**
 * The table's entities, made once per cold start, each bound to the client and table. Each is built on
 * first use: a function uses a few of the 59, and building one is ElectroDB parsing its model (~1 ms).
 * An entity is enumerable once built, so a transaction (ElectroDB's `createWriteTransaction`, which
 * sends through the first entity it is given and reads the built ones' identifiers) never builds the rest.
 */
export function createDb(client: DynamoDBDocumentClient, table: string, options: CreateDbOptions = {}) {
  const checkModels = options.checkModels === true;
  const entity: EntityBuilder = (schema) =>
    checkModels ? new Entity(schema, { client, table }) : new PrecheckedEntity(schema, { client, table });
  const builders = entityBuilders(entity);
  // Checked, every entity is built at once (the model test joins them in a Service for its checks too).
  const entities: Entities = checkModels
    ? (Object.fromEntries(entityNames.map((name) => [name, builders[name]()])) as unknown as Entities)
    : builtOnFirstUse(builders, { listOnlyBuilt: true });
  const transactWrite: Service<Entities>['transaction']['write'] = (fn) => {
    // The transaction is sent through the first built entity: the event, which nearly every one writes.
    void entities.event;
    return createWriteTransaction(entities, fn);
  };
  return { entities, transactWrite, table, client };
}

export type Db = ReturnType<typeof createDb>;
/** The entities as seen inside `transactWrite(...)`, where operations end in `.commit()`. */
export type TxEntities = Parameters<Parameters<Db['transactWrite']>[0]>[0];
