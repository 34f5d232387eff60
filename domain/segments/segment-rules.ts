/**
 * The rule language of dynamic segments (issue 15), pure: its shape, its validation against the field
 * catalogue, its evaluation on one contact, and the fields it reads.
 *
 * A rule is a condition or a group: `{ all: [...] }`, `{ any: [...] }`, `{ not: rule }`, nested at most
 * `maxRuleDepth` deep with at most `maxRuleConditions` conditions. A condition is
 * `{ field, op, value? }`:
 * - text fields (`name`, `jobTitle`, `role`, `segment`, `city`, `state`, `country`, `company.name`,
 *   `company.industry`, `company.city`, `company.state`, `company.country`, text custom fields):
 *   `eq`, `neq`, `in`, `not_in`, `contains`, `starts_with`, `is_set`, `is_not_set` (case and accents
 *   folded, as tags and search fold them);
 * - `status` (active/archived), `company.size`, select custom fields: `eq`, `neq`, `in`, `not_in`,
 *   `is_set`, `is_not_set`;
 * - `suppressed`, boolean custom fields: `eq` true/false;
 * - `ownerId`: `eq`, `neq`, `in`, `not_in` (user ids), `is_set`, `is_not_set` (unclaimed);
 * - `tags`: `has`, `has_any`, `has_all`, `has_none` (tag names, folded);
 * - `channels`: `has`, `lacks` (a channel kind: email, phone, linkedin, telegram, whatsapp);
 * - numbers (`score`, `qualification.score`, `fitScore.<productId>`, number custom fields): `eq`,
 *   `neq`, `gt`, `gte`, `lt`, `lte`, `between` ([low, high], both included), `is_set`, `is_not_set`;
 * - `qualification` (its kind): as a select;
 * - dates (`createdAt`, `updatedAt`, date custom fields): `before`, `after` (an ISO date or date-time),
 *   `in_last`, `not_in_last` (`{ amount, unit: 'days' | 'hours' }`, relative to the evaluation time),
 *   `is_set`, `is_not_set`.
 *
 * A field the contact does not have is "not set": every operator but `is_not_set`, `neq`, `not_in`,
 * `has_none`, `lacks` and `not_in_last` is false on it.
 */
import * as z from 'zod';
import { companySizes, type CompanyItem } from '../companies/company-record';
import { channelKinds, type ChannelKind } from '../contacts/channels';
import type { ContactItem } from '../contacts/contact-record';
import type { customFieldTypes } from '../custom-fields/custom-field.entity';
import { foldText } from '../shared/text';
import { tagKey } from '../tags/tag-names';

export const maxRuleDepth = 5;
export const maxRuleConditions = 50;

export const ruleOperators = [
  'eq',
  'neq',
  'in',
  'not_in',
  'contains',
  'starts_with',
  'is_set',
  'is_not_set',
  'has',
  'has_any',
  'has_all',
  'has_none',
  'lacks',
  'gt',
  'gte',
  'lt',
  'lte',
  'between',
  'before',
  'after',
  'in_last',
  'not_in_last',
] as const;
export type RuleOperator = (typeof ruleOperators)[number];

export interface RuleCondition {
  field: string;
  op: RuleOperator;
  value?: unknown;
}
export type SegmentRule = RuleCondition | { all: SegmentRule[] } | { any: SegmentRule[] } | { not: SegmentRule };

const conditionSchema = z.strictObject({
  field: z.string().min(1).max(120),
  op: z.enum(ruleOperators),
  value: z.unknown().optional(),
});

/**
 * The rule's shape (the catalogue checks come after: `validateRule`). Its id makes it one OpenAPI
 * component that refers to itself.
 */
export const segmentRuleSchema: z.ZodType<SegmentRule> = z
  .lazy(() =>
    z.union([
      conditionSchema,
      z.strictObject({ all: z.array(segmentRuleSchema).min(1).max(maxRuleConditions) }),
      z.strictObject({ any: z.array(segmentRuleSchema).min(1).max(maxRuleConditions) }),
      z.strictObject({ not: segmentRuleSchema }),
    ]),
  )
  .meta({
    id: 'SegmentRule',
    description: `A condition \`{ field, op, value }\` or a group \`{ all: [...] }\` / \`{ any: [...] }\` / \`{ not: rule }\`, nested at most ${maxRuleDepth} deep, at most ${maxRuleConditions} conditions. The fields and the operators each takes are in the README (Segments).`,
  }) as z.ZodType<SegmentRule>;

type FieldKind = 'text' | 'enum' | 'boolean' | 'owner' | 'tags' | 'channels' | 'number' | 'date';

/** A custom field as the catalogue knows it. */
export interface CatalogueCustomField {
  key: string;
  type: (typeof customFieldTypes)[number];
  options?: string[];
}

/** What a rule may name: the workspace's contact custom fields and its products (fit scores). */
export interface RuleCatalogue {
  customFields: CatalogueCustomField[];
  productIds: string[];
}

interface FieldSpec {
  kind: FieldKind;
  /** For `enum` fields: the values it takes. */
  values?: readonly string[];
}

const fixedFields: Record<string, FieldSpec> = {
  name: { kind: 'text' },
  jobTitle: { kind: 'text' },
  role: { kind: 'text' },
  segment: { kind: 'text' },
  city: { kind: 'text' },
  state: { kind: 'text' },
  country: { kind: 'text' },
  status: { kind: 'enum', values: ['active', 'archived'] },
  suppressed: { kind: 'boolean' },
  ownerId: { kind: 'owner' },
  tags: { kind: 'tags' },
  channels: { kind: 'channels' },
  score: { kind: 'number' },
  qualification: { kind: 'enum' },
  'qualification.score': { kind: 'number' },
  createdAt: { kind: 'date' },
  updatedAt: { kind: 'date' },
  'company.name': { kind: 'text' },
  'company.industry': { kind: 'text' },
  'company.size': { kind: 'enum', values: companySizes },
  'company.city': { kind: 'text' },
  'company.state': { kind: 'text' },
  'company.country': { kind: 'text' },
};

const operatorsOf: Record<FieldKind, readonly RuleOperator[]> = {
  text: ['eq', 'neq', 'in', 'not_in', 'contains', 'starts_with', 'is_set', 'is_not_set'],
  enum: ['eq', 'neq', 'in', 'not_in', 'is_set', 'is_not_set'],
  boolean: ['eq'],
  owner: ['eq', 'neq', 'in', 'not_in', 'is_set', 'is_not_set'],
  tags: ['has', 'has_any', 'has_all', 'has_none'],
  channels: ['has', 'lacks'],
  number: ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'between', 'is_set', 'is_not_set'],
  date: ['before', 'after', 'in_last', 'not_in_last', 'is_set', 'is_not_set'],
};

const customKinds: Record<CatalogueCustomField['type'], FieldKind> = {
  text: 'text',
  number: 'number',
  date: 'date',
  boolean: 'boolean',
  select: 'enum',
};

/** The field's spec, or undefined when the catalogue has no such field. */
function fieldSpec(field: string, catalogue: RuleCatalogue): FieldSpec | undefined {
  if (field in fixedFields) return fixedFields[field];
  if (field.startsWith('customFields.')) {
    const custom = catalogue.customFields.find((item) => `customFields.${item.key}` === field);
    return custom ? { kind: customKinds[custom.type], ...(custom.options ? { values: custom.options } : {}) } : undefined;
  }
  if (field.startsWith('fitScore.')) return catalogue.productIds.includes(field.slice('fitScore.'.length)) ? { kind: 'number' } : undefined;
  return undefined;
}

export interface RuleProblem {
  /** Where in the rule: `all.0.any.1.value`. */
  path: string;
  message: string;
}

const relativeSchema = z.strictObject({ amount: z.number().int().min(1).max(36_500), unit: z.enum(['days', 'hours']) });
const isoDate = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

/** The problem with a condition's value for its field kind and operator, or null. */
function valueProblem(spec: FieldSpec, op: RuleOperator, value: unknown): string | null {
  const strings = (min: number) => Array.isArray(value) && value.length >= min && value.length <= 100 && value.every((item) => typeof item === 'string' && item !== '');
  if (op === 'is_set' || op === 'is_not_set') return value === undefined ? null : '`is_set` and `is_not_set` take no value';
  switch (spec.kind) {
    case 'boolean':
      return typeof value === 'boolean' ? null : 'expected true or false';
    case 'tags':
      if (op === 'has') return typeof value === 'string' && value !== '' ? null : 'expected a tag name';
      return strings(1) ? null : 'expected a list of 1–100 tag names';
    case 'channels':
      return typeof value === 'string' && (channelKinds as readonly string[]).includes(value)
        ? null
        : `expected a channel kind: ${channelKinds.join(', ')}`;
    case 'number':
      if (op === 'between') {
        return Array.isArray(value) && value.length === 2 && value.every((n) => typeof n === 'number' && Number.isFinite(n)) && value[0] <= value[1]
          ? null
          : 'expected [low, high], two numbers, low ≤ high';
      }
      return typeof value === 'number' && Number.isFinite(value) ? null : 'expected a number';
    case 'date':
      if (op === 'in_last' || op === 'not_in_last') return relativeSchema.safeParse(value).success ? null : 'expected { amount: 1–36500, unit: days | hours }';
      return isoDate.safeParse(value).success ? null : 'expected an ISO date (2026-01-31) or date-time';
    default: {
      if (op === 'in' || op === 'not_in') {
        if (!strings(1)) return 'expected a list of 1–100 values';
        const outside = spec.values ? (value as string[]).find((item) => !spec.values!.includes(item)) : undefined;
        return outside !== undefined ? `${JSON.stringify(outside)} is not one of ${spec.values!.join(', ')}` : null;
      }
      if (typeof value !== 'string' || value === '') return 'expected a non-empty text';
      return spec.values && (op === 'eq' || op === 'neq') && !spec.values.includes(value) ? `expected one of ${spec.values.join(', ')}` : null;
    }
  }
}

/**
 * Every problem of a rule against the catalogue (empty: valid): unknown fields, operators the field
 * does not take, values of the wrong shape, too deep, too many conditions. Paths name the bad part.
 */
export function validateRule(rule: SegmentRule, catalogue: RuleCatalogue): RuleProblem[] {
  const problems: RuleProblem[] = [];
  let conditions = 0;
  const walk = (node: SegmentRule, path: string[], depth: number) => {
    const at = (more: string[] = []) => [...path, ...more].join('.') || '(rule)';
    if (depth > maxRuleDepth) {
      problems.push({ path: at(), message: `groups nest at most ${maxRuleDepth} deep` });
      return;
    }
    if ('all' in node) return node.all.forEach((child, i) => walk(child, [...path, 'all', String(i)], depth + 1));
    if ('any' in node) return node.any.forEach((child, i) => walk(child, [...path, 'any', String(i)], depth + 1));
    if ('not' in node) return walk(node.not, [...path, 'not'], depth + 1);
    conditions += 1;
    const spec = fieldSpec(node.field, catalogue);
    if (!spec) {
      problems.push({ path: at(['field']), message: `unknown field ${JSON.stringify(node.field)}` });
      return;
    }
    if (!operatorsOf[spec.kind].includes(node.op)) {
      problems.push({ path: at(['op']), message: `${node.field} takes ${operatorsOf[spec.kind].join(', ')}` });
      return;
    }
    const problem = valueProblem(spec, node.op, node.value);
    if (problem) problems.push({ path: at(['value']), message: problem });
  };
  walk(rule, [], 1);
  if (conditions > maxRuleConditions) problems.push({ path: '(rule)', message: `at most ${maxRuleConditions} conditions` });
  return problems;
}

/** What a rule is evaluated on: the contact, its company (when it has one), its fit scores by product. */
export interface RuleSubject {
  contact: ContactItem;
  company?: CompanyItem | null;
  fitScores?: Record<string, number>;
}

/** The value a field has on the subject (undefined: not set). */
function valueOf(field: string, subject: RuleSubject): unknown {
  const { contact, company } = subject;
  if (field.startsWith('customFields.')) return contact.customFields?.[field.slice('customFields.'.length)];
  if (field.startsWith('fitScore.')) return subject.fitScores?.[field.slice('fitScore.'.length)];
  if (field.startsWith('company.')) return company ? (company as unknown as Record<string, unknown>)[field.slice('company.'.length)] : undefined;
  switch (field) {
    case 'score':
      return contact.score?.value;
    case 'qualification':
      return contact.qualification?.kind;
    case 'qualification.score':
      return contact.qualification?.score;
    default:
      return (contact as unknown as Record<string, unknown>)[field];
  }
}

const isSet = (value: unknown) => value !== undefined && value !== null && value !== '';
/**
 * `f`, remembering its answers (at most `bound` of them: past that it starts afresh). For the folds of
 * text and tags, pure and costly (three Unicode normalisations, four regular expressions): a recompute
 * evaluates every rule on every contact, folding the same few values (the rules' own values, cities,
 * tags) again and again; unmemoised, folding was half its CPU.
 */
export function memoised(f: (text: string) => string, bound = 10_000): (text: string) => string {
  const answers = new Map<string, string>();
  return (text) => {
    let answer = answers.get(text);
    if (answer === undefined) {
      if (answers.size >= bound) answers.clear();
      answer = f(text);
      answers.set(text, answer);
    }
    return answer;
  };
}
const foldMemo = memoised(foldText);
const tagKeyMemo = memoised(tagKey);
const fold = (value: unknown) => foldMemo(String(value));
const ms = (value: unknown) => (typeof value === 'string' ? Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value) : Number.NaN);

function conditionHolds(condition: RuleCondition, subject: RuleSubject, nowMs: number): boolean {
  const { op, value: wanted } = condition;
  const actual = valueOf(condition.field, subject);
  if (op === 'is_set') return isSet(actual);
  if (op === 'is_not_set') return !isSet(actual);
  if (condition.field === 'tags') {
    const keys = new Set(((actual as string[] | undefined) ?? []).map(tagKeyMemo));
    const asked = (Array.isArray(wanted) ? wanted : [wanted]).map((name) => tagKeyMemo(String(name)));
    if (op === 'has' || op === 'has_all') return asked.every((key) => keys.has(key));
    if (op === 'has_any') return asked.some((key) => keys.has(key));
    return asked.every((key) => !keys.has(key));
  }
  if (condition.field === 'channels') {
    const present = ((actual as { kind: ChannelKind }[] | undefined) ?? []).some((channel) => channel.kind === wanted);
    return op === 'has' ? present : !present;
  }
  const negative = op === 'neq' || op === 'not_in' || op === 'not_in_last';
  if (!isSet(actual)) return negative;
  switch (op) {
    case 'eq':
      return typeof wanted === 'string' ? fold(actual) === fold(wanted) : actual === wanted;
    case 'neq':
      return typeof wanted === 'string' ? fold(actual) !== fold(wanted) : actual !== wanted;
    case 'in':
      return (wanted as string[]).some((item) => fold(item) === fold(actual));
    case 'not_in':
      return (wanted as string[]).every((item) => fold(item) !== fold(actual));
    case 'contains':
      return fold(actual).includes(fold(wanted));
    case 'starts_with':
      return fold(actual).startsWith(fold(wanted));
    case 'gt':
      return Number(actual) > Number(wanted);
    case 'gte':
      return Number(actual) >= Number(wanted);
    case 'lt':
      return Number(actual) < Number(wanted);
    case 'lte':
      return Number(actual) <= Number(wanted);
    case 'between': {
      const [low, high] = wanted as [number, number];
      return Number(actual) >= low && Number(actual) <= high;
    }
    case 'before':
      return ms(actual) < ms(wanted);
    case 'after':
      return ms(actual) > ms(wanted);
    case 'in_last':
    case 'not_in_last': {
      const { amount, unit } = wanted as { amount: number; unit: 'days' | 'hours' };
      const since = nowMs - amount * (unit === 'days' ? 86_400_000 : 3_600_000);
      const at = ms(actual);
      const within = at >= since && at <= nowMs;
      return op === 'in_last' ? within : !within;
    }
    default:
      return false;
  }
}

/** Whether the subject meets the rule at `nowMs` (relative dates are measured from it). */
export function ruleMatches(rule: SegmentRule, subject: RuleSubject, nowMs: number): boolean {
  if ('all' in rule) return rule.all.every((child) => ruleMatches(child, subject, nowMs));
  if ('any' in rule) return rule.any.some((child) => ruleMatches(child, subject, nowMs));
  if ('not' in rule) return !ruleMatches(rule.not, subject, nowMs);
  return conditionHolds(rule, subject, nowMs);
}

/**
 * The fields a rule reads (`tags`, `customFields.plan`, `company.industry`, ...): a contact change that
 * touches none of them cannot change the rule's answer, so the stream need not evaluate it.
 */
export function fieldsOfRule(rule: SegmentRule, into = new Set<string>()): Set<string> {
  if ('all' in rule) rule.all.forEach((child) => fieldsOfRule(child, into));
  else if ('any' in rule) rule.any.forEach((child) => fieldsOfRule(child, into));
  else if ('not' in rule) fieldsOfRule(rule.not, into);
  else into.add(rule.field);
  return into;
}

/** Whether the rule's answer can change with time alone (`in_last`, `not_in_last`): the scheduled recompute keeps it true. */
export function ruleDriftsWithTime(rule: SegmentRule): boolean {
  if ('all' in rule) return rule.all.some(ruleDriftsWithTime);
  if ('any' in rule) return rule.any.some(ruleDriftsWithTime);
  if ('not' in rule) return ruleDriftsWithTime(rule.not);
  return rule.op === 'in_last' || rule.op === 'not_in_last';
}
