import type { Classification, ClassifyConversationInput, Qualifier } from '../shared/ports';
import type { ClassificationKind } from './qualification.schemas';

/**
 * The phrases that count for each kind, matched as whole words in what the contact wrote (and the
 * subject), accents and case ignored. Listed in the order that breaks ties: a spam or opt-out signal
 * outweighs anything else said in the same conversation, a problem outweighs a purchase.
 */
export const localRules: readonly { kind: ClassificationKind; phrases: readonly string[] }[] = [
  {
    kind: 'spam',
    phrases: ['viagra', 'casino', 'lottery', 'you have won', 'bitcoin', 'crypto giveaway', 'seo services', 'click here', 'backlinks', 'wire transfer fee'],
  },
  {
    kind: 'not_a_fit',
    phrases: ['not interested', 'no thanks', 'no thank you', 'wrong number', 'remove me', 'stop messaging', 'do not contact', 'unsubscribe', 'job application', 'student project'],
  },
  {
    kind: 'support',
    phrases: ['not working', "doesn't work", 'does not work', 'broken', 'error', 'bug', 'crash', 'issue', 'problem', 'refund', "can't log in", 'cannot log in', 'complaint', 'help with my'],
  },
  {
    kind: 'customer',
    phrases: ['my order', 'my account', 'my subscription', 'my invoice', 'invoice', 'renew', 'renewal', 'our contract', 'we bought', 'already a customer', 'order number', 'add more seats'],
  },
  {
    kind: 'prospect',
    phrases: ['pricing', 'price', 'quote', 'demo', 'trial', 'proposal', 'budget', 'how much', 'discount', 'purchase', 'buy', 'contract terms', 'procurement'],
  },
  {
    kind: 'lead',
    phrases: ['interested', 'more information', 'more info', 'learn more', 'tell me more', 'still available', 'brochure', 'catalog', 'newsletter', 'found you'],
  },
];

/** Accents and case removed, curly apostrophes straightened: what the phrases are matched against. */
const normalise = (text: string) =>
  text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[\u2018\u2019]/g, "'")
    .toLowerCase();

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// Compiled on the first classification, not at import: ~90 Unicode-class patterns take tens of ms,
// and every function that carries the dependencies carries this module.
let compiled: { kind: ClassificationKind; phrases: { phrase: string; pattern: RegExp }[] }[] | undefined;
const matchers = () =>
  (compiled ??= localRules.map(({ kind, phrases }) => ({
    kind,
    phrases: phrases.map((phrase) => ({ phrase, pattern: new RegExp(`(?:^|[^\\p{L}\\p{N}'])${escape(phrase)}(?:$|[^\\p{L}\\p{N}'])`, 'u') })),
  })));

const round2 = (value: number) => Math.round(value * 100) / 100;
const quoted = (phrases: string[]) => phrases.map((phrase) => `“${phrase}”`).join(', ');

/**
 * The classification the local rules give a conversation: the kind with the most distinct phrases
 * found in the contact's words (ties to the kind listed first in `localRules`), a score of 1 + its
 * phrases (at most 5), and a confidence that grows with its phrases and shrinks with the runner-up's
 * (0.2–0.95). A contact tagged or already qualified as a customer who reports a problem is `support`;
 * one who only talks of buying more is a `customer`. Nothing found: `lead` at confidence 0.2 (a
 * contact who wrote in is at least a lead). Deterministic: the same input always gives the same answer.
 */
export function classifyByRules(input: ClassifyConversationInput): Classification {
  const contactText = normalise(
    [input.subject ?? '', ...input.messages.filter((message) => message.author === 'contact').map((message) => message.text)].join('\n'),
  );
  const found = matchers()
    .map(({ kind, phrases }) => ({ kind, phrases: phrases.filter(({ pattern }) => pattern.test(contactText)).map(({ phrase }) => phrase) }))
    .filter((hit) => hit.phrases.length > 0);
  const knownCustomer = isKnownCustomer(input.contact);
  if (found.length === 0) {
    return knownCustomer
      ? { kind: 'customer', score: 2, confidence: 0.4, reasons: ['Nothing in the conversation says otherwise, and the contact is already a customer'] }
      : { kind: 'lead', score: 1, confidence: 0.2, reasons: ['No telling phrase in the contact’s messages: a contact who wrote in is taken as a lead'] };
  }
  // Stable sort: equal counts keep the order of `localRules`.
  const ranked = [...found].sort((a, b) => b.phrases.length - a.phrases.length);
  let winner = ranked[0]!;
  const runnerUp = ranked[1];
  const reasons = [`The contact wrote ${quoted(winner.phrases)}`];
  if (knownCustomer && winner.kind === 'prospect') {
    winner = { ...winner, kind: 'customer' };
    reasons.push('The contact is already a customer: buying more is a customer’s request');
  }
  if (knownCustomer && winner.kind === 'support') reasons.push('The contact is already a customer');
  if (runnerUp) reasons.push(`Also found, for ${runnerUp.kind}: ${quoted(runnerUp.phrases)}`);
  const hits = winner.phrases.length;
  const confidence = Math.min(0.95, Math.max(0.2, 0.4 + 0.15 * hits - 0.1 * (runnerUp?.phrases.length ?? 0)));
  return { kind: winner.kind, score: Math.min(5, 1 + hits), confidence: round2(confidence), reasons: reasons.map((reason) => reason.slice(0, 300)) };
}

/**
 * The local rating of fit criteria: a criterion whose name's words (of 4 letters or more) the contact
 * wrote is rated 3 for one word and 5 for two or more, quoting them; one the contact wrote nothing about
 * is not rated (nothing is known). Deterministic, like the classification.
 */
export function rateCriteriaByRules(input: ClassifyConversationInput): NonNullable<Classification['criteria']> {
  const contactText = normalise(input.messages.filter((message) => message.author === 'contact').map((message) => message.text).join('\n'));
  return (input.criteria ?? []).flatMap((criterion) => {
    const words = [...new Set(normalise(criterion.name).split(/[^\p{L}\p{N}]+/u).filter((word) => word.length >= 4))];
    const found = words.filter((word) => new RegExp(`(?:^|[^\\p{L}\\p{N}])${escape(word)}`, 'u').test(contactText));
    if (found.length === 0) return [];
    return [{ id: criterion.id, value: found.length >= 2 ? 5 : 3, evidence: `The contact wrote about ${quoted(found)}` }];
  });
}

/** A contact tagged `customer`, or whose latest qualification is `customer`. */
function isKnownCustomer(contact: Record<string, unknown>): boolean {
  const tags = Array.isArray(contact.tags) ? contact.tags.map((tag) => normalise(String(tag))) : [];
  const qualification = contact.qualification as { kind?: unknown } | null | undefined;
  return tags.includes('customer') || qualification?.kind === 'customer';
}

/** The deterministic local default of the Qualifier port: `npm start`, the tests, and a deployment without a model. */
export const localQualifier: Qualifier = {
  classifyConversation: async (input) => {
    const criteria = rateCriteriaByRules(input);
    return { ...classifyByRules(input), ...(criteria.length > 0 ? { criteria } : {}) };
  },
};
