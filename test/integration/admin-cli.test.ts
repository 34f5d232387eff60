import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStack, type TestStack } from '../support/test-stack';

const run = promisify(execFile);
let stack: TestStack;

beforeAll(async () => {
  stack = await createTestStack();
});
afterAll(() => stack.destroy());

const admin = (args: string[]) =>
  run('npx', ['tsx', 'local/admin.ts', ...args], {
    env: { ...process.env, TABLE_NAME: '', LOG_LEVEL: 'SILENT' },
    encoding: 'utf8',
  });

describe('npm run admin -- create-workspace', () => {
  it('creates a workspace in the given table and prints a working owner token', async () => {
    const { stdout } = await admin([
      'create-workspace',
      '--name',
      'Initech',
      '--owner-email',
      'peter@initech.example',
      '--table',
      stack.tableName,
      '--endpoint',
      process.env.DYNAMODB_ENDPOINT!,
    ]);
    const token = stdout.match(/crm_[A-Za-z0-9_-]{43}/)?.[0];
    expect(token).toBeDefined();
    const me = await stack.api('GET', '/v1/me', { token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ workspace: { name: 'Initech' }, user: { email: 'peter@initech.example', role: 'owner' } });
  });

  it('refuses bad input naming the flag, writing nothing', async () => {
    const failure = await admin(['create-workspace', '--name', 'X', '--owner-email', 'not-an-email', '--table', stack.tableName]).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr).toContain('--owner-email');
  });
});
