/**
 * The subset of the AWS event filter syntax (Lambda event source mapping `FilterCriteria`, the same
 * language as EventBridge patterns) that the stream consumers' patterns use, applied to a stream record
 * exactly as Lambda applies it: to the record's JSON, with `dynamodb.NewImage` etc. in DynamoDB JSON.
 * Two users: a stream reader (functions/streams/stream-reader.ts) routing each record of its mapping to
 * the consumers whose patterns it matches, and the local stream poller applying a mapping's filter.
 *
 * Supported: nested objects; arrays of literal values (string, number, boolean, null) matched by
 * equality; `{ "prefix": "..." }`, `{ "suffix": "..." }`, `{ "equals-ignore-case": "..." }`,
 * `{ "exists": true | false }`, `{ "anything-but": value | [values] | { "prefix": "..." } }` and
 * `{ "numeric": [">", 0, "<=", 5] }`. Anything else is refused when the pattern is checked, so a
 * pattern that would behave differently on AWS fails loudly on this machine instead of silently.
 */

export type FilterPattern = Record<string, unknown>;

/** True when `record` matches at least one pattern; no patterns at all lets every record through. */
export function matchesAnyPattern(patterns: readonly FilterPattern[], record: unknown): boolean {
  return patterns.length === 0 || patterns.some((pattern) => matchesPattern(pattern, record));
}

/** True when every field of `pattern` matches `value`. */
export function matchesPattern(pattern: FilterPattern, value: unknown): boolean {
  return Object.entries(pattern).every(([key, expected]) => {
    const actual = isObject(value) ? value[key] : undefined;
    if (Array.isArray(expected)) return matchesField(expected, actual);
    if (isObject(expected)) return matchesPattern(expected, actual);
    throw new Error(`Filter pattern field "${key}" must be an array of matchers or a nested object`);
  });
}

/** Throws, naming the problem, when a pattern uses syntax this matcher does not implement. */
export function assertSupportedPattern(pattern: FilterPattern, path = ''): void {
  for (const [key, expected] of Object.entries(pattern)) {
    const at = path ? `${path}.${key}` : key;
    if (Array.isArray(expected)) {
      if (expected.length === 0) throw new Error(`Filter pattern ${at}: an empty array matches nothing`);
      for (const matcher of expected) assertSupportedMatcher(matcher, at);
    } else if (isObject(expected)) {
      assertSupportedPattern(expected, at);
    } else {
      throw new Error(`Filter pattern ${at}: expected an array of matchers or a nested object`);
    }
  }
}

// A field matches when any matcher matches; an array value matches when any of its elements does.
function matchesField(matchers: readonly unknown[], actual: unknown): boolean {
  return matchers.some((matcher) => {
    if (isObject(matcher) && 'exists' in matcher) return matcher.exists === (actual !== undefined);
    if (actual === undefined) return false;
    const candidates = Array.isArray(actual) ? actual : [actual];
    return candidates.some((candidate) => matchesValue(matcher, candidate));
  });
}

function matchesValue(matcher: unknown, actual: unknown): boolean {
  if (!isObject(matcher)) return matcher === actual;
  const [operator, operand] = Object.entries(matcher)[0] ?? [];
  switch (operator) {
    case 'prefix':
      return typeof actual === 'string' && actual.startsWith(String(operand));
    case 'suffix':
      return typeof actual === 'string' && actual.endsWith(String(operand));
    case 'equals-ignore-case':
      return typeof actual === 'string' && actual.toLowerCase() === String(operand).toLowerCase();
    case 'anything-but':
      if (isObject(operand)) return !matchesValue(operand, actual);
      return !(Array.isArray(operand) ? operand : [operand]).some((value) => value === actual);
    case 'numeric':
      return matchesNumeric(operand as unknown[], actual);
    default:
      throw new Error(`Unsupported filter operator: ${JSON.stringify(matcher)}`);
  }
}

function matchesNumeric(conditions: readonly unknown[], actual: unknown): boolean {
  if (typeof actual !== 'number' || !Array.isArray(conditions)) return false;
  for (let index = 0; index < conditions.length; index += 2) {
    const operator = conditions[index];
    const bound = Number(conditions[index + 1]);
    const ok =
      operator === '='
        ? actual === bound
        : operator === '<'
          ? actual < bound
          : operator === '<='
            ? actual <= bound
            : operator === '>'
              ? actual > bound
              : operator === '>='
                ? actual >= bound
                : undefined;
    if (ok === undefined) throw new Error(`Unsupported numeric operator: ${String(operator)}`);
    if (!ok) return false;
  }
  return true;
}

const numericOperators = new Set<unknown>(['=', '<', '<=', '>', '>=']);
const supportedOperators = new Set([
  'prefix',
  'suffix',
  'equals-ignore-case',
  'anything-but',
  'numeric',
  'exists',
]);

function assertSupportedMatcher(matcher: unknown, at: string): void {
  if (!isObject(matcher)) {
    if (matcher === null || ['string', 'number', 'boolean'].includes(typeof matcher)) return;
    throw new Error(`Filter pattern ${at}: unsupported literal ${JSON.stringify(matcher)}`);
  }
  const keys = Object.keys(matcher);
  if (keys.length !== 1 || !supportedOperators.has(keys[0]!)) {
    throw new Error(`Filter pattern ${at}: unsupported matcher ${JSON.stringify(matcher)}`);
  }
  const [operator, operand] = Object.entries(matcher)[0]!;
  if (operator === 'exists' && typeof operand !== 'boolean') {
    throw new Error(`Filter pattern ${at}: "exists" takes true or false`);
  }
  if (operator === 'numeric') {
    const valid =
      Array.isArray(operand) &&
      operand.length % 2 === 0 &&
      operand.every((item, index) => (index % 2 ? typeof item === 'number' : numericOperators.has(item)));
    if (!valid) throw new Error(`Filter pattern ${at}: bad "numeric" ${JSON.stringify(operand)}`);
  }
  if (operator === 'anything-but' && isObject(operand)) assertSupportedMatcher(operand, at);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
