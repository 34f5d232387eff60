import { describe, expect, it } from 'vitest';
import type { CompanyItem } from '../../domain/companies/company-record';
import type { ContactItem } from '../../domain/contacts/contact-record';
import { foldText } from '../../domain/shared/text';
import {
  fieldsOfRule,
  memoised,
  ruleDriftsWithTime,
  ruleMatches,
  segmentRuleSchema,
  validateRule,
  type RuleCatalogue,
  type SegmentRule,
} from '../../domain/segments/segment-rules';

const now = Date.parse('2026-12-06T12:00:00Z');
const day = 86_400_000;

const contact = (extra: Partial<ContactItem> = {}): ContactItem => ({
  workspaceId: 'ws_1',
  contactId: 'ct_1',
  name: 'Zoë Álvarez',
  jobTitle: 'Head of Sales',
  city: 'Málaga',
  country: 'ES',
  ownerId: 'usr_1',
  status: 'active',
  suppressed: false,
  channels: [
    { kind: 'email', value: 'zoe@acme.example', normalized: 'zoe@acme.example', primary: true } as never,
    { kind: 'phone', value: '+34 600 000 000', normalized: '+34600000000', primary: true } as never,
  ],
  tags: ['VIP', 'Newsletter'],
  customFields: { plan: 'pro', seats: 40, renewal: '2027-01-15', trial: false, notes: 'Prefers calls' },
  score: { id: 's1', value: 72, source: 'manual', userId: 'usr_1', at: '2026-12-01T00:00:00Z' },
  qualification: { id: 'q1', kind: 'sql', score: 8, source: 'ai', userId: 'usr_1', at: '2026-12-01T00:00:00Z' },
  createdBy: 'usr_1',
  version: 3,
  createdAt: new Date(now - 10 * day).toISOString(),
  updatedAt: new Date(now - 2 * 3_600_000).toISOString(),
  ...extra,
});

const company = { name: 'Acme Ibérica', industry: 'Software', size: '51-200', country: 'ES' } as unknown as CompanyItem;

const catalogue: RuleCatalogue = {
  customFields: [
    { key: 'plan', type: 'select', options: ['free', 'pro', 'enterprise'] },
    { key: 'seats', type: 'number' },
    { key: 'renewal', type: 'date' },
    { key: 'trial', type: 'boolean' },
    { key: 'notes', type: 'text' },
  ],
  productIds: ['prd_crm'],
};

const holds = (rule: SegmentRule, subject = contact(), extra: { fitScores?: Record<string, number> } = {}) => {
  expect(validateRule(rule, catalogue), JSON.stringify(rule)).toEqual([]);
  return ruleMatches(rule, { contact: subject, company, ...extra }, now);
};

describe('segment rules: each operator', () => {
  it.each<[SegmentRule, boolean]>([
    [{ field: 'name', op: 'eq', value: 'zoe alvarez' }, true],
    [{ field: 'name', op: 'neq', value: 'Zoë Álvarez' }, false],
    [{ field: 'city', op: 'in', value: ['Madrid', 'malaga'] }, true],
    [{ field: 'city', op: 'not_in', value: ['Madrid'] }, true],
    [{ field: 'jobTitle', op: 'contains', value: 'SALES' }, true],
    [{ field: 'jobTitle', op: 'starts_with', value: 'head' }, true],
    [{ field: 'role', op: 'is_set' }, false],
    [{ field: 'role', op: 'is_not_set' }, true],
    // A field the contact lacks: only the negative operators hold.
    [{ field: 'role', op: 'neq', value: 'CEO' }, true],
    [{ field: 'role', op: 'eq', value: 'CEO' }, false],
    [{ field: 'status', op: 'eq', value: 'active' }, true],
    [{ field: 'suppressed', op: 'eq', value: false }, true],
    [{ field: 'ownerId', op: 'eq', value: 'usr_1' }, true],
    [{ field: 'ownerId', op: 'is_not_set' }, false],
    [{ field: 'tags', op: 'has', value: 'vip' }, true],
    [{ field: 'tags', op: 'has_any', value: ['churned', 'NEWSLETTER'] }, true],
    [{ field: 'tags', op: 'has_all', value: ['VIP', 'churned'] }, false],
    [{ field: 'tags', op: 'has_none', value: ['churned'] }, true],
    [{ field: 'channels', op: 'has', value: 'phone' }, true],
    [{ field: 'channels', op: 'lacks', value: 'whatsapp' }, true],
    [{ field: 'score', op: 'gte', value: 72 }, true],
    [{ field: 'score', op: 'gt', value: 72 }, false],
    [{ field: 'score', op: 'between', value: [50, 80] }, true],
    [{ field: 'qualification', op: 'in', value: ['sql', 'mql'] }, true],
    [{ field: 'qualification.score', op: 'lt', value: 5 }, false],
    [{ field: 'customFields.plan', op: 'eq', value: 'pro' }, true],
    [{ field: 'customFields.seats', op: 'lte', value: 40 }, true],
    [{ field: 'customFields.trial', op: 'eq', value: true }, false],
    [{ field: 'customFields.notes', op: 'contains', value: 'calls' }, true],
    [{ field: 'customFields.renewal', op: 'before', value: '2027-02-01' }, true],
    [{ field: 'customFields.renewal', op: 'after', value: '2027-02-01T00:00:00Z' }, false],
    [{ field: 'createdAt', op: 'in_last', value: { amount: 30, unit: 'days' } }, true],
    [{ field: 'createdAt', op: 'in_last', value: { amount: 7, unit: 'days' } }, false],
    [{ field: 'updatedAt', op: 'not_in_last', value: { amount: 1, unit: 'hours' } }, true],
    [{ field: 'company.industry', op: 'eq', value: 'software' }, true],
    [{ field: 'company.size', op: 'in', value: ['51-200', '201-500'] }, true],
    [{ field: 'company.name', op: 'starts_with', value: 'acme ib' }, true],
  ])('%j → %s', (rule, expected) => {
    expect(holds(rule)).toBe(expected);
  });

  it('a fit score per product, not set when the product has none for the contact', () => {
    expect(holds({ field: 'fitScore.prd_crm', op: 'gte', value: 3.5 }, contact(), { fitScores: { prd_crm: 4.2 } })).toBe(true);
    expect(holds({ field: 'fitScore.prd_crm', op: 'is_not_set' }, contact(), { fitScores: {} })).toBe(true);
  });

  it('a contact without a company meets no company condition but the negative ones', () => {
    const rule: SegmentRule = { field: 'company.industry', op: 'eq', value: 'software' };
    expect(ruleMatches(rule, { contact: contact(), company: null }, now)).toBe(false);
    expect(ruleMatches({ field: 'company.industry', op: 'is_not_set' }, { contact: contact(), company: null }, now)).toBe(true);
  });
});

describe('segment rules: folding remembered', () => {
  it('answers as the function does, computing each text once until the bound, then afresh', () => {
    const calls: string[] = [];
    const fold = memoised((text) => {
      calls.push(text);
      return foldText(text);
    }, 3);
    expect(['Málaga', 'MÁLAGA', 'Málaga', 'İstanbul'].map(fold)).toEqual(['malaga', 'malaga', 'malaga', foldText('İstanbul')]);
    expect(calls).toEqual(['Málaga', 'MÁLAGA', 'İstanbul']);
    fold('Zoë'); // the fourth text: the bound is reached, the answers start afresh
    expect(fold('Málaga')).toBe('malaga');
    expect(calls).toEqual(['Málaga', 'MÁLAGA', 'İstanbul', 'Zoë', 'Málaga']);
  });

  it('many distinct values (past the bound) still compare right', () => {
    for (let i = 0; i < 12_000; i++) {
      const subject = { contact: contact({ name: `Zoë Nº${i}`, city: i % 2 ? 'MÁLAGA' : 'Sevilla', tags: [`Tag-${i}`, 'VIP'] }) };
      expect(ruleMatches({ field: 'name', op: 'eq', value: `zoe no${i}` }, subject, now)).toBe(true);
      expect(ruleMatches({ field: 'city', op: 'eq', value: 'malaga' }, subject, now)).toBe(i % 2 === 1);
      expect(ruleMatches({ field: 'tags', op: 'has_all', value: [`tag-${i}`, 'vip'] }, subject, now)).toBe(true);
      expect(ruleMatches({ field: 'tags', op: 'has', value: `tag-${i + 1}` }, subject, now)).toBe(false);
    }
  });
});

describe('segment rules: groups', () => {
  const vip: SegmentRule = { field: 'tags', op: 'has', value: 'VIP' };
  const madrid: SegmentRule = { field: 'city', op: 'eq', value: 'Madrid' };
  it('all, any and not nest', () => {
    expect(holds({ all: [vip, { any: [madrid, { field: 'country', op: 'eq', value: 'ES' }] }] })).toBe(true);
    expect(holds({ all: [vip, madrid] })).toBe(false);
    expect(holds({ not: { all: [vip, madrid] } })).toBe(true);
    expect(holds({ any: [{ not: vip }, madrid] })).toBe(false);
  });

  it('names the fields a rule reads, and whether time alone moves it', () => {
    const rule: SegmentRule = { all: [vip, { not: { field: 'customFields.plan', op: 'eq', value: 'free' } }, { field: 'createdAt', op: 'in_last', value: { amount: 7, unit: 'days' } }] };
    expect([...fieldsOfRule(rule)].sort()).toEqual(['createdAt', 'customFields.plan', 'tags']);
    expect(ruleDriftsWithTime(rule)).toBe(true);
    expect(ruleDriftsWithTime({ all: [vip, madrid] })).toBe(false);
  });
});

describe('segment rules: validation names the bad part', () => {
  it.each<[unknown, { path: string; message: RegExp }]>([
    [{ field: 'favouriteColour', op: 'eq', value: 'red' }, { path: 'field', message: /unknown field "favouriteColour"/ }],
    [{ all: [{ field: 'tags', op: 'eq', value: 'vip' }] }, { path: 'all.0.op', message: /tags takes has, has_any, has_all, has_none/ }],
    [{ any: [{ field: 'score', op: 'gt', value: 'high' }] }, { path: 'any.0.value', message: /expected a number/ }],
    [{ field: 'score', op: 'between', value: [9, 1] }, { path: 'value', message: /low ≤ high/ }],
    [{ field: 'customFields.plan', op: 'eq', value: 'gold' }, { path: 'value', message: /one of free, pro, enterprise/ }],
    [{ field: 'customFields.plan', op: 'in', value: ['pro', 'gold'] }, { path: 'value', message: /"gold" is not one of/ }],
    [{ field: 'customFields.missing', op: 'is_set' }, { path: 'field', message: /unknown field/ }],
    [{ field: 'fitScore.prd_other', op: 'gt', value: 1 }, { path: 'field', message: /unknown field/ }],
    [{ field: 'createdAt', op: 'in_last', value: { amount: 0, unit: 'weeks' } }, { path: 'value', message: /amount: 1–36500/ }],
    [{ field: 'createdAt', op: 'before', value: 'last tuesday' }, { path: 'value', message: /ISO date/ }],
    [{ field: 'channels', op: 'has', value: 'fax' }, { path: 'value', message: /channel kind/ }],
    [{ field: 'role', op: 'is_set', value: 'x' }, { path: 'value', message: /take no value/ }],
    [{ field: 'company.size', op: 'eq', value: 'huge' }, { path: 'value', message: /one of 1-10/ }],
    [{ not: { not: { not: { not: { not: { field: 'name', op: 'is_set' } } } } } }, { path: 'not.not.not.not.not', message: /at most 5 deep/ }],
  ])('%j', (rule, problem) => {
    const parsed = segmentRuleSchema.parse(rule);
    const problems = validateRule(parsed, catalogue);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toBe(problem.path);
    expect(problems[0]!.message).toMatch(problem.message);
  });

  it('every problem of a rule is listed, and more than 50 conditions are refused', () => {
    const problems = validateRule(
      { all: [{ field: 'nope', op: 'eq', value: 1 }, { field: 'score', op: 'has', value: 1 }] } as SegmentRule,
      catalogue,
    );
    expect(problems.map((problem) => problem.path)).toEqual(['all.0.field', 'all.1.op']);
    const many: SegmentRule = { any: Array.from({ length: 50 }, () => ({ field: 'name', op: 'is_set' as const })) };
    expect(validateRule({ all: [many, { field: 'name', op: 'is_set' }] }, catalogue)).toEqual([{ path: '(rule)', message: 'at most 50 conditions' }]);
  });

  it('the shape: unknown keys and empty groups are refused', () => {
    expect(segmentRuleSchema.safeParse({ all: [] }).success).toBe(false);
    expect(segmentRuleSchema.safeParse({ field: 'name', op: 'eq', value: 'x', extra: 1 }).success).toBe(false);
    expect(segmentRuleSchema.safeParse({ field: 'name', op: 'like', value: 'x' }).success).toBe(false);
    expect(segmentRuleSchema.safeParse({ all: [{ field: 'name', op: 'is_set' }], any: [] }).success).toBe(false);
  });
});
