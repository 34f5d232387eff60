/**
 * The upper bound of every sort key that starts with `prefix`: U+10FFFF is the largest code point,
 * and DynamoDB compares keys as UTF-8 bytes, so nothing that starts with `prefix` sorts after it.
 *
 * Queries use `between(prefix, prefixEnd(prefix))` rather than `begins_with(prefix)`: both are key
 * ranges on DynamoDB, but DynamoDB Local walks a partition from its start for begins_with, which made
 * a page in the middle of a large partition ~10× slower than the range (measured on 100k contacts).
 */
export const prefixEnd = (prefix: string) => `${prefix}\u{10FFFF}\u{10FFFF}`;
