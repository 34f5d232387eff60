import * as z from 'zod';
import type { EventSubjects } from '../../events/event-log';
import { canRead } from '../inbox/conversation-access';
import { systemActor, type CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { DomainError, invalidReference, notFound } from '../shared/errors';
import { responseSchema } from '../shared/response-schema';

/**
 * Every kind of record a note or a task can hang off (seed 000: "polymorphic anchor"). Only the kinds
 * with a resolver below are accepted by the API; the others arrive with their features.
 */
export const allAnchorKinds = ['contact', 'company', 'deal', 'conversation'] as const;
export type AnchorKind = (typeof allAnchorKinds)[number];

/** What a note or task points at, as stored and as the API shows it. */
export interface AnchorRef {
  kind: AnchorKind;
  id: string;
}

/** An anchor found in the caller's workspace. */
export interface ResolvedAnchor extends AnchorRef {
  /** The records an event about the anchored note or task is about: the keys of their timelines. */
  subjects: EventSubjects;
  /** Set when the id asked for was merged away and the anchor followed it to this record. */
  redirectedFrom?: string;
}

interface FoundRecord {
  /** When set, the record was merged into this one: the anchor follows it. */
  mergedInto?: string;
  /** The timeline subjects, when the record's own fields give them (a conversation's contact). */
  subjects?: EventSubjects;
}

/**
 * How one kind of anchor is found: one read by id in the caller's workspace (undefined when absent,
 * or when the caller may not see it), and the timeline subjects the record gives an event: from the id
 * alone (`subjects`), or, for a kind whose subjects are fields of the record that can change (a
 * conversation's contact moves with a contact merge), from the record `find` read. Adding a kind is
 * one entry in `anchorResolvers`.
 */
export interface AnchorResolver {
  label: string;
  find(deps: CoreDeps, caller: CallerContext, id: string): Promise<FoundRecord | undefined>;
  subjects?(id: string): EventSubjects;
  /** The subjects also need the record (a deal's contact and company): `anchorSubjects` reads it. */
  subjectsNeedRecord?: boolean;
}

export const anchorResolvers: Partial<Record<AnchorKind, AnchorResolver>> = {
  contact: {
    label: 'Contact',
    async find(deps, { workspaceId }, contactId) {
      const { data } = await deps.db.entities.contact.get({ workspaceId, contactId }).go();
      return data ? { mergedInto: data.mergedInto } : undefined;
    },
    subjects: (contactId) => ({ contactId }),
  },
  company: {
    label: 'Company',
    async find(deps, { workspaceId }, companyId) {
      const { data } = await deps.db.entities.company.get({ workspaceId, companyId }).go();
      return data ? { mergedInto: data.mergedInto } : undefined;
    },
    subjects: (companyId) => ({ companyId }),
  },
  /**
   * A deal: a note or task on it is also about its contact and company (seed 000: the customer's
   * Activity tab merges every event of theirs), read each time, as the deal's contact may change.
   */
  deal: {
    label: 'Deal',
    async find(deps, { workspaceId }, dealId) {
      const { data } = await deps.db.entities.deal.get({ workspaceId, dealId }).go();
      if (!data) return undefined;
      return {
        subjects: {
          dealId,
          ...(data.contactId ? { contactId: data.contactId } : {}),
          ...(data.companyId ? { companyId: data.companyId } : {}),
        },
      };
    },
    subjects: (dealId) => ({ dealId }),
    subjectsNeedRecord: true,
  },
  /**
   * A conversation: a contact conversation is anyone's in the workspace; a direct conversation is
   * found only by its users (to anyone else it does not exist, as its reads answer 404), so only they
   * anchor tasks to it or list its tasks. The task itself is a workspace record like any other. The
   * subjects are the conversation's contact, read each time: a contact merge moves the conversation to
   * the target (its id, the anchor, stays), and the task's later events go to the target's timeline.
   */
  conversation: {
    label: 'Conversation',
    async find(deps, caller, conversationId) {
      const { data: item } = await deps.db.entities.conversation
        .get({ workspaceId: caller.workspaceId, conversationId })
        .go();
      if (!item || !canRead(caller, item)) return undefined;
      return { subjects: item.contactId ? { contactId: item.contactId } : {} };
    },
  },
};

/** The kinds among `kinds` that have a resolver: the ones an API accepts today. */
export function supportedAnchorKinds(
  kinds: readonly AnchorKind[] = allAnchorKinds,
): [AnchorKind, ...AnchorKind[]] {
  const supported = kinds.filter((kind) => anchorResolvers[kind] !== undefined);
  if (supported.length === 0) throw new Error('No anchor kind has a resolver');
  return supported as [AnchorKind, ...AnchorKind[]];
}

const anchorId = z.string().min(1).max(64);

/** The anchor of a request body, limited to the given kinds that have a resolver. */
export const anchorInput = (kinds: readonly AnchorKind[], id: string) =>
  z
    .object({
      kind: z.enum(supportedAnchorKinds(kinds)),
      id: anchorId.meta({ description: 'The id of the record in your workspace' }),
    })
    .meta({ id });

/** The anchor in a query string: `anchorKind` and `anchorId`. */
export const anchorQuery = (kinds: readonly AnchorKind[]) => ({
  anchorKind: z.enum(supportedAnchorKinds(kinds)),
  anchorId,
});

export const anchorSchema = responseSchema(() =>
  z
    .object({ kind: z.enum(allAnchorKinds), id: z.string() })
    .meta({ id: 'Anchor', description: 'The record this hangs off' }),
);

/** A merge chain is followed this many steps at most (merges into merged records are refused, so 1 is usual). */
const maxRedirects = 5;

/**
 * Finds an anchor in the caller's workspace, as the caller sees it. When it is not there (or not
 * theirs to see: another user's direct conversation): in a write's body (`body.…`), a 422
 * `invalid_reference` naming `field`; in a list's query, a 404 naming it. A contact or company merged
 * into another resolves to the one it was merged into, so notes and tasks written against an old id
 * land where the merge put the others.
 */
export async function resolveAnchor(
  deps: CoreDeps,
  caller: CallerContext,
  anchor: AnchorRef,
  field = 'body.anchor.id',
): Promise<ResolvedAnchor> {
  const resolver = anchorResolvers[anchor.kind];
  if (!resolver) throw notFound(`Anchor kind ${anchor.kind}`);
  let id = anchor.id;
  for (let step = 0; step <= maxRedirects; step += 1) {
    const found = await resolver.find(deps, caller, id);
    if (!found) {
      const message = `No ${anchor.kind} with this id in the workspace`;
      if (field.startsWith('body.')) throw invalidReference(field, message);
      throw new DomainError('not_found', `${resolver.label} not found`, { fields: [{ field, message }] });
    }
    if (!found.mergedInto) {
      return {
        kind: anchor.kind,
        id,
        subjects: found.subjects ?? resolver.subjects?.(id) ?? {},
        ...(id !== anchor.id ? { redirectedFrom: anchor.id } : {}),
      };
    }
    id = found.mergedInto;
  }
  throw new Error(`The ${anchor.kind} ${anchor.id} is merged more than ${maxRedirects} times over`);
}

/**
 * The timeline subjects of an anchor already stored, without a read: the ones its id gives (a
 * contact, a company, a deal without its contact); `{}` for the others (use `anchorSubjects`).
 */
export const subjectsOf = (anchor: AnchorRef | undefined): EventSubjects =>
  anchor ? (anchorResolvers[anchor.kind]?.subjects?.(anchor.id) ?? {}) : {};

/**
 * The timeline subjects of an anchor already stored: from the id when it is the subject (no read),
 * else from one read of the record as it is now (a conversation's contact, which a merge may have
 * changed; a deal's contact and company). A record gone gives what its id gives.
 */
export async function anchorSubjects(
  deps: CoreDeps,
  workspaceId: string,
  anchor: AnchorRef | undefined,
): Promise<EventSubjects> {
  if (!anchor) return {};
  const resolver = anchorResolvers[anchor.kind];
  if (!resolver) return {};
  if (resolver.subjects && !resolver.subjectsNeedRecord) return resolver.subjects(anchor.id);
  const found = await resolver.find(deps, systemActor(workspaceId), anchor.id);
  return found?.subjects ?? resolver.subjects?.(anchor.id) ?? {};
}

/** Progress of moving the records of one anchor to another (a merge step). */
export interface MoveProgress {
  /** Records looked at: the work counted against a request's budget. */
  processed: number;
  /** Records moved to the target. */
  moved: number;
  /** Nothing is left on the source. */
  done: boolean;
}
