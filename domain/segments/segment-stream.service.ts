import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { findCompany } from '../companies/company-record';
import type { ContactItem } from '../contacts/contact-record';
import { systemActor } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { retryLostRaces } from '../shared/retry';
import {
  applyPlans,
  carryStaticSegments,
  changedRuleFields,
  membershipRaced,
  planChanges,
  planMembership,
  readContactSegments,
  readWorkspaceSegments,
  ruleReadsAny,
  summaryChanged,
} from './membership.service';

/** One change of a contact item, as the table's stream carries it. */
export interface ContactChange {
  before: ContactItem | undefined;
  after: ContactItem;
}

/** Reads a contact stream record's images (DynamoDB JSON). */
export function parseContactImages(
  newImage: Record<string, unknown> | undefined,
  oldImage: Record<string, unknown> | undefined,
): ContactChange {
  if (!newImage) throw new Error('The stream record has no NewImage: is the stream NEW_AND_OLD_IMAGES?');
  const read = (image: Record<string, unknown>) => {
    const item = unmarshall(image as Record<string, AttributeValue>) as ContactItem & { __edb_e__?: string };
    if (item.__edb_e__ !== 'contact' || !item.workspaceId || !item.contactId || typeof item.version !== 'number') {
      throw new Error('Not a contact item');
    }
    return item;
  };
  return { after: read(newImage), before: oldImage ? read(oldImage) : undefined };
}

export type SegmentChangeOutcome = 'applied' | 'unchanged' | 'stale';

/**
 * Keeps a contact's dynamic segment memberships true after a change of the contact (the `segments`
 * stream consumer). Two round trips: the workspace's segments, the contact's memberships item and its
 * company (when it has one) are read at once; then one transaction writes what changed. Only the
 * segments whose rule reads a field the change touched are evaluated (all of them for a new contact);
 * the member items carry the contact's summary, so a summary change rewrites them.
 *
 * A replayed or late record changes nothing twice: the memberships item remembers the contact version
 * it was evaluated at, and an older version is `stale`; the same version again plans no change.
 */
export async function applyContactChangeToSegments(deps: CoreDeps, change: ContactChange): Promise<SegmentChangeOutcome> {
  const { before, after } = change;
  const { workspaceId, contactId } = after;
  const changed = before ? changedRuleFields(before, after) : undefined;
  const rewrite = before ? summaryChanged(before, after) : false;
  if (changed && changed.size === 0 && !rewrite) return 'unchanged';
  return retryLostRaces(async () => {
    const [segments, current, company] = await Promise.all([
      readWorkspaceSegments(deps, workspaceId),
      readContactSegments(deps, workspaceId, contactId),
      after.companyId ? findCompany(deps, workspaceId, after.companyId) : Promise.resolve(undefined),
    ]);
    if (current && current.contactVersion > after.version) return 'stale';
    if (after.mergedInto) await carryStaticSegments(deps, after, current, segments);
    const plan = planMembership({
      contact: after,
      company,
      current,
      segments,
      evaluate: (segment) => !changed || ruleReadsAny(segment, changed),
      nowMs: deps.clock.nowMs(),
      reason: 'contact_change',
      rewrite,
    });
    if (!planChanges(plan)) return 'unchanged';
    const outcome = await applyPlans(deps, systemActor(workspaceId), [plan]);
    if (outcome.raced.length > 0) throw membershipRaced();
    return 'applied';
  });
}
