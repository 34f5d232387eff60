import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

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

describe('npm run admin -- reindex-contacts', () => {
  it('rebuilds lost list entries and search tokens and deletes index items of an older layout', async () => {
    const ws = await seedWorkspace(stack, 'Reindexed');
    const created = await stack.api('POST', '/v1/contacts', {
      token: ws.owner.token,
      body: { name: 'Rita Reindex', channels: [{ kind: 'email', value: 'rita@reindex.example' }] },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const listed = async () =>
      (await stack.api('GET', '/v1/contacts', { token: ws.owner.token })).body.items.map((item: { id: string }) => item.id);
    const found = async () =>
      (await stack.api('GET', '/v1/contacts/search', { token: ws.owner.token, query: { q: 'rita' } })).body.items.length;
    expect(await listed()).toEqual([id]);

    // Lose the name entry and a token; leave an entry of the old sharded layout behind.
    const { client, table } = stack.deps.db;
    const pk = (suffix: string) => `WS#${ws.workspace.id}#${suffix}`;
    const byName = await client.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk('CL#active#n') } }));
    await client.send(new DeleteCommand({ TableName: table, Key: { pk: byName.Items![0]!.pk, sk: byName.Items![0]!.sk } }));
    const tokens = await client.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk('ST#ri') } }));
    for (const item of tokens.Items!) await client.send(new DeleteCommand({ TableName: table, Key: { pk: item.pk, sk: item.sk } }));
    const { sort: _sort, ...entry } = byName.Items![0]!;
    const oldLayout = { ...entry, pk: pk('CL#active#0'), sk: `n#rita reindex#${id}`, shard: 0 };
    await client.send(new PutCommand({ TableName: table, Item: oldLayout }));
    expect(await listed()).toEqual([]);
    expect(await found()).toBe(0);

    const { stdout } = await admin(['reindex-contacts', '--workspace', ws.workspace.id, '--table', stack.tableName, '--endpoint', process.env.DYNAMODB_ENDPOINT!]);
    expect(stdout).toMatch(/Reindexed 1 contacts .* 1 stale index items deleted/);
    expect(await listed()).toEqual([id]);
    expect(await found()).toBe(1);
    const old = await client.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk('CL#active#0') } }));
    expect(old.Items).toEqual([]);

    // Again: nothing more to do.
    const again = await admin(['reindex-contacts', '--workspace', ws.workspace.id, '--table', stack.tableName, '--endpoint', process.env.DYNAMODB_ENDPOINT!]);
    expect(again.stdout).toMatch(/0 stale index items deleted/);
  });
});
