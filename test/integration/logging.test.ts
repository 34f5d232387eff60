import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.LOG_LEVEL = 'DEBUG';
});

import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;

beforeAll(async () => {
  stack = await createTestStack();
  await captureLogs(async () => {
    acme = await seedWorkspace(stack);
  });
});
afterAll(() => stack.destroy());
afterEach(() => {
  vi.restoreAllMocks();
});

/** Runs `act` with the logger on and returns the JSON lines it wrote. */
async function captureLogs(act: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const capture = (chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture as typeof process.stdout.write);
  vi.spyOn(console, 'info').mockImplementation((...args: unknown[]) => void capture(args.join(' ')));
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void capture(args.join(' ')));
  vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void capture(args.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void capture(args.join(' ')));
  await act();
  vi.restoreAllMocks();
  return lines
    .flatMap((line) => line.split('\n'))
    .filter((line) => line.trim().startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('structured logs', () => {
  it('write one JSON line per request with its request id, and never a token', async () => {
    let requestId = '';
    let createdSecret = '';
    const lines = await captureLogs(async () => {
      const me = await stack.api('GET', '/v1/me', { token: acme.owner.token });
      requestId = me.headers['x-request-id']!;
      const created = await stack.api('POST', '/v1/tokens', { token: acme.owner.token, body: { name: 'log-test' } });
      createdSecret = created.body.token;
      await stack.api('GET', '/v1/me', { token: `crm_${'x'.repeat(43)}` });
    });
    const handled = lines.filter((line) => line.message === 'Request handled');
    expect(handled).toHaveLength(3);
    expect(handled[0]).toMatchObject({ requestId, status: 200, path: '/v1/me', workspaceId: acme.workspace.id, level: 'INFO' });
    expect(handled[2]).toMatchObject({ status: 401 });
    const all = JSON.stringify(lines);
    expect(all).not.toContain(acme.owner.token);
    expect(all).not.toContain(createdSecret);
    expect(all).not.toContain('x'.repeat(43));
  });
});
