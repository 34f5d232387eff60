import { expect } from 'vitest';

/**
 * The body of an API answer that must have `status` (200 unless given); when it has another, the
 * assertion shows the body, which says why.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test bodies are read loosely
export async function ok(promise: Promise<{ status: number; body: any }>, status = 200): Promise<any> {
  const res = await promise;
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  return res.body;
}
