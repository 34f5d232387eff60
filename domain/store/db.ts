import { botConversationSchema, botSettingsSchema } from '../bot/bot.entity';
import { contactFitSchema, fitAssessmentSchema, leadReviewSchema, productSchema } from '../fit/fit.entity';
import { contactSegmentsSchema, segmentMemberSchema, segmentSchema } from '../segments/segment.entity';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Entity, Service } from 'electrodb';
import { apiTokenSchema } from '../auth/api-token.entity';
import { companySchema } from '../companies/company.entity';
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
import { pendingProviderStatusSchema, providerMessageRefSchema } from '../channels/deliveries/provider-message-ref.entity';
import { webhookReceiptSchema } from '../channels/inbound/webhook-receipt.entity';
import { assignmentPassStateSchema, assignmentRuleSchema, assignmentWaitSchema } from '../assignment/assignment-rule.entity';
import { webhookDeliverySchema, webhookSubscriptionSchema } from '../webhooks/webhook.entity';

/**
 * The one ElectroDB service over the one table, built once per cold start. Entities are created here
 * (not at module load) because a Service binds its entities to one client and table.
 */
export function createDb(client: DynamoDBDocumentClient, table: string) {
  const service = new Service(
    {
      workspace: new Entity(workspaceSchema),
      user: new Entity(userSchema),
      apiToken: new Entity(apiTokenSchema),
      idempotencyRecord: new Entity(idempotencyRecordSchema),
      uniqueGuard: new Entity(uniqueGuardSchema),
      event: new Entity(eventSchema),
      streamReceipt: new Entity(streamReceiptSchema),
      feedEntry: new Entity(feedEntrySchema),
      feedHead: new Entity(feedHeadSchema),
      company: new Entity(companySchema),
      contact: new Entity(contactSchema),
      contactListEntry: new Entity(contactListEntrySchema),
      contactSearchToken: new Entity(contactSearchTokenSchema),
      contactScore: new Entity(contactScoreSchema),
      contactQualification: new Entity(contactQualificationSchema),
      contactPin: new Entity(contactPinSchema),
      customField: new Entity(customFieldSchema),
      note: new Entity(noteSchema),
      noteRevision: new Entity(noteRevisionSchema),
      task: new Entity(taskSchema),
      pipeline: new Entity(pipelineSchema),
      stageStats: new Entity(stageStatsSchema),
      deal: new Entity(dealSchema),
      dealListEntry: new Entity(dealListEntrySchema),
      tag: new Entity(tagSchema),
      conversation: new Entity(conversationSchema),
      conversationListEntry: new Entity(conversationListEntrySchema),
      conversationCount: new Entity(conversationCountSchema),
      conversationScore: new Entity(conversationScoreSchema),
      conversationQualification: new Entity(conversationQualificationSchema),
      message: new Entity(messageSchema),
      messageAuthorMove: new Entity(messageAuthorMoveSchema),
      messageReceipt: new Entity(messageReceiptSchema),
      unreadCounter: new Entity(unreadCounterSchema),
      unreadTotals: new Entity(unreadTotalsSchema),
      attachment: new Entity(attachmentSchema),
      call: new Entity(callSchema),
      job: new Entity(jobSchema),
      importRow: new Entity(importRowSchema),
      importError: new Entity(importErrorSchema),
      channelConnection: new Entity(channelConnectionSchema),
      providerMessageRef: new Entity(providerMessageRefSchema),
      pendingProviderStatus: new Entity(pendingProviderStatusSchema),
      webhookReceipt: new Entity(webhookReceiptSchema),
      segment: new Entity(segmentSchema),
      segmentMember: new Entity(segmentMemberSchema),
      contactSegments: new Entity(contactSegmentsSchema),
      product: new Entity(productSchema),
      fitAssessment: new Entity(fitAssessmentSchema),
      contactFit: new Entity(contactFitSchema),
      leadReview: new Entity(leadReviewSchema),
      assignmentRule: new Entity(assignmentRuleSchema),
      assignmentWait: new Entity(assignmentWaitSchema),
      assignmentPassState: new Entity(assignmentPassStateSchema),
      webhookSubscription: new Entity(webhookSubscriptionSchema),
      webhookDelivery: new Entity(webhookDeliverySchema),
      botSettings: new Entity(botSettingsSchema),
      botConversation: new Entity(botConversationSchema),
    },
    { client, table },
  );
  return { service, entities: service.entities, table, client };
}

export type Db = ReturnType<typeof createDb>;
export type Entities = Db['entities'];
/** The entities as seen inside `service.transaction.write(...)`, where operations end in `.commit()`. */
export type TxEntities = Parameters<Parameters<Db['service']['transaction']['write']>[0]>[0];
