import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as z from 'zod';
import { systemClock, ulidGenerator } from '../domain/shared/clock';
import { createDb } from '../domain/store/db';
import { createDocumentClient, createDynamoClient } from '../domain/store/dynamo-client';
import { createWorkspaceInput } from '../domain/workspaces/workspaces.schemas';
import { createWorkspace } from '../domain/workspaces/workspaces.service';
import { runtimeFile } from './paths';

const usage = `Usage: npm run admin -- <command> [options]

Commands:
  create-workspace --name <name> --owner-email <email> [--owner-name <name>]
      Creates a workspace with its first owner and prints the owner's API token (shown once).

Target (default: the local stack started by \`npm start\`):
  --table <name>       DynamoDB table name (on AWS: the stack output TableName)
  --region <region>    AWS region (default: AWS_REGION or us-east-1)
  --endpoint <url>     A DynamoDB endpoint (DynamoDB Local); omit with --table to use AWS itself
`;

async function main(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      'owner-email': { type: 'string' },
      'owner-name': { type: 'string' },
      table: { type: 'string' },
      region: { type: 'string' },
      endpoint: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0];
  if (values.help || command !== 'create-workspace') {
    process.stdout.write(usage);
    return command === undefined || values.help ? 0 : 2;
  }
  const target = resolveTarget(values);
  const parsed = createWorkspaceInput.safeParse({
    name: values.name,
    ownerEmail: values['owner-email'],
    ownerName: values['owner-name'] ?? values['owner-email']?.split('@')[0],
  });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) process.stderr.write(`--${flagOf(String(issue.path[0]))}: ${issue.message}\n`);
    process.stderr.write(`\n${usage}`);
    return 2;
  }
  const client = createDynamoClient({ endpoint: target.endpoint, region: target.region });
  const deps = { db: createDb(createDocumentClient(client), target.table), clock: systemClock, newId: ulidGenerator() };
  const created = await createWorkspace(deps, parsed.data);
  client.destroy();
  process.stdout.write(
    [
      `Workspace ${created.workspace.name} (${created.workspace.id}) created in table ${target.table}${target.endpoint ? ` at ${target.endpoint}` : ''}.`,
      `Owner: ${created.owner.name} <${created.owner.email}> (${created.owner.id})`,
      `Owner API token (shown once, store it now):`,
      `  ${created.token.token}`,
      '',
    ].join('\n'),
  );
  return 0;
}

const flagOf = (field: string) => ({ ownerEmail: 'owner-email', ownerName: 'owner-name' })[field] ?? field;

function resolveTarget(values: { table?: string; region?: string; endpoint?: string }) {
  const region = values.region ?? process.env.AWS_REGION ?? 'us-east-1';
  if (values.table) return { table: values.table, region, endpoint: values.endpoint };
  if (process.env.TABLE_NAME) return { table: process.env.TABLE_NAME, region, endpoint: values.endpoint ?? process.env.DYNAMODB_ENDPOINT };
  // The local stack: `npm start` records where it runs.
  const runtime = existsSync(runtimeFile)
    ? z.object({ tableName: z.string(), dynamodbEndpoint: z.string() }).parse(JSON.parse(readFileSync(runtimeFile, 'utf8')))
    : { tableName: 'crm-local', dynamodbEndpoint: 'http://127.0.0.1:8000' };
  return { table: runtime.tableName, region, endpoint: values.endpoint ?? runtime.dynamodbEndpoint };
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`admin: ${error.message}\n`);
    if (/ECONNREFUSED/.test(String(error.message) + String((error as { code?: string }).code))) {
      process.stderr.write('Is the local stack running? Start it with `npm start`, or pass --table (and --endpoint).\n');
    }
    process.exit(1);
  },
);
