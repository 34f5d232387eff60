import type { EventRecord } from '../../events/event-log';
import { eventTypeMatches } from '../../events/events.schemas';
import { findCompany } from '../companies/company-record';
import type { ContactItem } from '../contacts/contact-record';
import { subjectOf } from '../segments/membership.service';
import { fieldsOfRule, ruleMatches } from '../segments/segment-rules';
import { forEachLimited } from '../shared/concurrency';
import type { CoreDeps } from '../shared/deps';
import type { JobQueue } from '../shared/ports';
import { isConditionFailure } from '../store/transaction';
import { deliveryMessage, newDeliveryItem } from './webhook-delivery-record';
import { readWorkspaceSubscriptions, type SubscriptionItem } from './webhooks.service';

export type FanoutDeps = CoreDeps & { queue: JobQueue };

/**
 * Does the filter hold for the event's contact, as it is now? An event about no contact never matches
 * a filtered subscription. The contact (and its company, when the rule reads company fields) is read
 * once per event, whatever the number of filtered subscriptions.
 */
function filterCheck(deps: CoreDeps, event: EventRecord) {
  let subject: Promise<ReturnType<typeof subjectOf>> | undefined;
  const load = async (withCompany: boolean) => {
    if (!event.contactId) return null;
    const { data } = await deps.db.entities.contact.get({ workspaceId: event.workspaceId, contactId: event.contactId }).go();
    const contact = (data as ContactItem | null) ?? undefined;
    if (!contact) return null;
    const company = withCompany && contact.companyId ? await findCompany(deps, event.workspaceId, contact.companyId) : null;
    return subjectOf(contact, company ?? null);
  };
  return async (subscription: SubscriptionItem): Promise<boolean> => {
    if (!subscription.filter) return true;
    const withCompany = [...fieldsOfRule(subscription.filter)].some((field) => field.startsWith('company.'));
    // One read per event: with the company when any filtered subscription wants it.
    subject ??= load(withCompany);
    let found = await subject;
    if (found && withCompany && found.company === null && found.contact.companyId) found = await (subject = load(true));
    return found !== null && ruleMatches(subscription.filter, found, deps.clock.nowMs());
  };
}

/**
 * One event to the workspace's webhooks: a delivery item per matching subscription (type patterns,
 * then the filter), created only if absent (the item is the (event, subscription) pair's guard: a
 * replayed stream record writes nothing twice), then its message to the `deliver_webhook` queue, sent
 * again on a replay (a duplicate message finds the delivery done or held). Disabled subscriptions get a
 * `skipped` delivery, which a replay can send once they are enabled again.
 */
export async function fanOutToWebhooks(deps: FanoutDeps, event: EventRecord, subscriptions?: SubscriptionItem[]): Promise<number> {
  const all = subscriptions ?? (await readWorkspaceSubscriptions(deps, event.workspaceId));
  const byType = all.filter((subscription) => eventTypeMatches(subscription.eventTypes, event.type));
  if (byType.length === 0) return 0;
  const matches = filterCheck(deps, event);
  const chosen = (await Promise.all(byType.map(async (subscription) => ((await matches(subscription)) ? [subscription] : [])))).flat();
  const nowIso = deps.clock.nowIso();
  await Promise.all(
    chosen.map(async (subscription) => {
      const item = newDeliveryItem(event, subscription.subscriptionId, subscription.status === 'enabled', nowIso);
      try {
        await deps.db.entities.webhookDelivery.create(item).go();
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      if (item.status === 'pending') await deps.queue.send(deliveryMessage(item));
    }),
  );
  return chosen.length;
}

/** How many events of a batch are fanned out at once (each writes its deliveries and sends their messages). */
const eventsInFlight = 16;

/**
 * A stream batch: the subscriptions read once per workspace, then the events fanned out side by side
 * (each delivery is its own item and message, and receivers get no order from webhooks anyway).
 */
export async function fanOutBatchToWebhooks(deps: FanoutDeps, events: readonly EventRecord[]): Promise<void> {
  const workspaces = [...new Set(events.map((event) => event.workspaceId))];
  const subscriptions = new Map(
    await Promise.all(workspaces.map(async (workspaceId) => [workspaceId, await readWorkspaceSubscriptions(deps, workspaceId)] as const)),
  );
  const withSubscriptions = events.filter((event) => (subscriptions.get(event.workspaceId) ?? []).length > 0);
  await forEachLimited(withSubscriptions, eventsInFlight, (event) => fanOutToWebhooks(deps, event, subscriptions.get(event.workspaceId)).then(() => undefined));
}
