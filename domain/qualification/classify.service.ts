import { toContact, type ContactItem } from '../contacts/contact-record';
import { assertCanWrite, readContact } from '../contacts/contacts.service';
import { setContactQualification } from '../contacts/scoring.service';
import type { SetQualificationInput } from '../contacts/scoring.schemas';
import { contactConversationsList, type ConversationItem } from '../inbox/conversation-record';
import { assertCanReply, findConversation, readConversation, setConversationQualification } from '../inbox/conversations.service';
import type { MessageItem } from '../inbox/messages.service';
import { readContactFit, readProducts, recordAssessments, type ProductItem } from '../fit/fit.service';
import { createJob } from '../jobs/jobs.service';
import type { Job } from '../jobs/jobs.schemas';
import { findSegment } from '../segments/segments.service';
import { requireManager, systemActor, type CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { invalidReference, isConflict, unprocessable } from '../shared/errors';
import type { Classification, ConversationLine, Qualifier } from '../shared/ports';
import { retryLostRaces } from '../shared/retry';
import {
  classificationSchema,
  classifiedMessageChars,
  classifiedMessages,
  type ClassifyConversationInput,
  type ClassifyJobInput,
  type ClassifySegmentInput,
} from './qualification.schemas';
import { QualifierError } from './qualifier-error';

/** What classifying needs beyond the table: the classifier. */
export type ClassifyDeps = CoreDeps & { qualifier: Qualifier };

/**
 * Queues the classification of one conversation (`POST /v1/conversations/{id}/classify`). Who may
 * qualify the conversation by hand may ask for it: anyone for a pool conversation, a member not for
 * one assigned to another user (403); with `contact`, the caller must also be allowed to change the
 * contact (a member: their own or an unclaimed one). A direct conversation has no contact to qualify (422).
 */
export async function startConversationClassification(
  deps: CoreDeps,
  caller: CallerContext,
  conversationId: string,
  input: ClassifyConversationInput,
): Promise<Job> {
  const conversation = await readConversation(deps, caller, conversationId);
  if (conversation.kind !== 'contact' || !conversation.contactId) {
    throw unprocessable('A direct conversation has no contact: only contact conversations are classified');
  }
  assertCanReply(caller, conversation);
  if (input.contact) assertCanWrite(caller, await readContact(deps, caller.workspaceId, conversation.contactId));
  const jobInput: ClassifyJobInput = {
    mode: 'conversation',
    conversationId,
    contact: input.contact,
    trigger: 'request',
    requestedAt: deps.clock.nowIso(),
  };
  return createJob(deps, caller, { kind: 'classify_conversation', input: jobInput, total: 1 });
}

/**
 * Queues the classification of the latest conversation of every member of a segment
 * (`POST /v1/conversations/classify`): owner/admin only, since it writes many records at once.
 */
export async function startSegmentClassification(deps: CoreDeps, caller: CallerContext, input: ClassifySegmentInput): Promise<Job> {
  requireManager(caller, 'classify a whole segment');
  const segment = await findSegment(deps, caller.workspaceId, input.segmentId);
  if (!segment) throw invalidReference('body.segmentId', 'No segment with this id in the workspace');
  const jobInput: ClassifyJobInput = {
    mode: 'segment',
    segmentId: input.segmentId,
    contact: input.contact,
    requestedAt: deps.clock.nowIso(),
  };
  return createJob(deps, caller, { kind: 'classify_conversation', input: jobInput, total: segment.memberCount });
}

/** What became of one conversation's classification. */
export type ClassifyOutcome =
  | { status: 'skipped'; conversationId: string; reason: 'conversation_gone' | 'no_contact' | 'no_messages' }
  | {
      status: 'classified';
      conversationId: string;
      kind: string;
      score: number | null;
      confidence: number;
      /** `kept_manual`: a user's value stays (one written after the request, or any for an inbound-triggered run). */
      conversation: 'applied' | 'kept_manual';
      contact: 'applied' | 'kept_manual' | 'not_asked' | 'unavailable';
      /** Assessments of the products' `ai` fit criteria written for the contact. */
      fitAssessed: number;
    };

/**
 * Classifies one conversation: reads its latest messages and its contact's profile, asks the
 * qualifier, and writes the answer as the conversation's qualification (and the contact's, with
 * `contact`) with source `ai`, its confidence and reasons, as the system. The latest write wins and
 * the history keeps every value; but a manual qualification written at or after `requestedAt` is
 * newer knowledge than the answer and is kept (checked on the very version written). A run no user
 * asked for (`trigger: inbound`) keeps every manual value, however old: a person's judgement stands
 * until a person changes it or asks for a classification again.
 * Throws `QualifierError` when the classifier fails or answers something that is no classification.
 */
export async function classifyConversation(
  deps: ClassifyDeps,
  workspaceId: string,
  conversationId: string,
  options: { contact: boolean; requestedAt: string; trigger?: 'request' | 'inbound' },
): Promise<ClassifyOutcome> {
  const conversation = await findConversation(deps, workspaceId, conversationId, true);
  if (!conversation) return { status: 'skipped', conversationId, reason: 'conversation_gone' };
  if (conversation.kind !== 'contact' || !conversation.contactId) return { status: 'skipped', conversationId, reason: 'no_contact' };
  const [messages, contact, products] = await Promise.all([
    recentLines(deps, workspaceId, conversationId),
    readContact(deps, workspaceId, conversation.contactId).catch(() => undefined),
    readProducts(deps, workspaceId),
  ]);
  if (messages.length === 0) return { status: 'skipped', conversationId, reason: 'no_messages' };
  // The products' `ai` fit criteria, asked of the same classifier as `<productId>:<criterionId>`.
  const aiCriteria = contact && !contact.mergedInto ? products.flatMap((product) =>
    product.criteria.filter((criterion) => criterion.kind === 'ai').map((criterion) => ({ id: `${product.productId}:${criterion.id}`, name: criterion.name })),
  ) : [];
  const answer = checkedAnswer(
    await deps.qualifier.classifyConversation({
      workspaceId,
      conversationId,
      channel: conversation.channel,
      subject: conversation.subject ?? null,
      messages,
      contact: contact ? profileOf(contact) : {},
      ...(aiCriteria.length > 0 ? { criteria: aiCriteria } : {}),
    }),
  );
  const system = systemActor(workspaceId);
  const write: SetQualificationInput = {
    kind: answer.kind,
    ...(answer.score !== undefined ? { score: answer.score } : {}),
    source: 'ai',
    confidence: answer.confidence,
    reasons: answer.reasons,
  };
  const manualStandsSince = options.trigger === 'inbound' ? sinceEver : options.requestedAt;
  const keep = { keepManualSince: manualStandsSince };
  const written = await retryLostRaces(() => setConversationQualification(deps, system, conversationId, write, keep));
  let contactOutcome: 'applied' | 'kept_manual' | 'not_asked' | 'unavailable' = 'not_asked';
  if (options.contact) {
    // A contact merged away or gone meanwhile is not written; its conversation's answer stands.
    contactOutcome =
      !contact || contact.mergedInto
        ? 'unavailable'
        : await retryLostRaces(() => setContactQualification(deps, system, contact.contactId, write, keep)).then(
            ({ applied }) => (applied ? 'applied' : 'kept_manual'),
            (error: unknown) => {
              if (isConflict(error) || (error as { code?: string }).code === 'not_found') return 'unavailable';
              throw error;
            },
          );
  }
  const fitAssessed = contact && aiCriteria.length > 0 ? await recordAiCriteria(deps, contact.contactId, products, answer.criteria ?? [], manualStandsSince) : 0;
  return {
    status: 'classified',
    conversationId,
    kind: answer.kind,
    score: answer.score ?? null,
    confidence: answer.confidence,
    conversation: written.applied ? 'applied' : 'kept_manual',
    contact: contactOutcome,
    fitAssessed,
  };
}

/** Before any time: with it, every manual value is kept. */
const sinceEver = new Date(0).toISOString();

/**
 * The classifier's ratings of `ai` fit criteria, written as the contact's assessments (source `ai`,
 * its evidence), a product at a time. A criterion a user assessed at or after `userStandsSince` keeps
 * the user's value (newer knowledge than the answer); ratings of criteria not asked are ignored.
 */
async function recordAiCriteria(
  deps: ClassifyDeps,
  contactId: string,
  products: readonly ProductItem[],
  ratings: NonNullable<Classification['criteria']>,
  userStandsSince: string,
): Promise<number> {
  let written = 0;
  for (const product of products) {
    const asked = new Set(product.criteria.filter((criterion) => criterion.kind === 'ai').map((criterion) => criterion.id));
    const mine = ratings.flatMap((rating) => {
      const [productId, criterionId] = rating.id.split(':');
      return productId === product.productId && criterionId && asked.has(criterionId) ? [{ ...rating, criterionId }] : [];
    });
    if (mine.length === 0) continue;
    const fit = await readContactFit(deps, product.workspaceId, contactId, product.productId);
    const due = mine.filter((rating) => {
      const latest = fit?.latest[rating.criterionId];
      return !(latest && latest.source === 'user' && latest.at >= userStandsSince);
    });
    if (due.length === 0) continue;
    const system = systemActor(product.workspaceId);
    await recordAssessments(
      deps,
      system,
      contactId,
      product,
      due.map((rating) => ({ criterionId: rating.criterionId, value: rating.value, evidence: rating.evidence, source: 'ai' as const })),
      { authorise: () => undefined },
    );
    written += due.length;
  }
  return written;
}

/** The classifier's answer, held to the classification schema: anything else is a bad answer, not retried. */
function checkedAnswer(answer: Classification) {
  const parsed = classificationSchema.safeParse(answer);
  if (!parsed.success) {
    throw new QualifierError('classification_invalid', `The classifier's answer is no classification: ${parsed.error.message}`, false);
  }
  return parsed.data;
}

/** The conversation's latest messages, oldest first, internal notes left out (one Query). */
async function recentLines(deps: CoreDeps, workspaceId: string, conversationId: string): Promise<ConversationLine[]> {
  const { data } = await deps.db.entities.message.query
    .byConversation({ workspaceId, conversationId })
    .go({ order: 'desc', limit: classifiedMessages * 2, pages: 1 });
  return (data as MessageItem[])
    .filter((message) => !message.note)
    .slice(0, classifiedMessages)
    .reverse()
    .map((message) => ({
      author: message.authorKind,
      text: (message.body || (message.kind === 'media' ? '[media]' : '')).slice(0, classifiedMessageChars),
      at: message.createdAt,
    }));
}

/** What a classifier is told about the contact: who they are, never how to reach them (the email's domain only). */
function profileOf(item: ContactItem): Record<string, unknown> {
  const contact = toContact(item);
  return {
    name: contact.name,
    jobTitle: contact.jobTitle,
    role: contact.role,
    segment: contact.segment,
    city: contact.city,
    state: contact.state,
    country: contact.country,
    companyName: contact.companyName,
    emailDomain: contact.email?.split('@')[1] ?? null,
    tags: contact.tags,
    customFields: contact.customFields,
    qualification: contact.qualification ? { kind: contact.qualification.kind, source: contact.qualification.source } : null,
    score: contact.score?.value ?? null,
  };
}

/** A page of a segment's members, latest joined first, from `cursor` (one Query of the byJoined index). */
export async function segmentMembersPage(deps: CoreDeps, workspaceId: string, segmentId: string, cursor: string | null, limit: number) {
  const { data, cursor: next } = await deps.db.entities.segmentMember.query
    .byJoined({ workspaceId, segmentId })
    .go({ order: 'desc', limit, pages: 1, cursor, attributes: ['contactId'] });
  return { contactIds: (data as { contactId: string }[]).map((member) => member.contactId), next: next ?? null };
}

/** A contact's conversation with the latest activity, whatever its status (one Query of its contact list). */
export async function latestConversationOf(deps: CoreDeps, workspaceId: string, contactId: string): Promise<string | undefined> {
  const { data } = await deps.db.entities.conversationListEntry.query
    .byActivity({ workspaceId, list: contactConversationsList(contactId) })
    .go({ order: 'desc', limit: 1, pages: 1 });
  return (data[0] as Pick<ConversationItem, 'conversationId'> | undefined)?.conversationId;
}
