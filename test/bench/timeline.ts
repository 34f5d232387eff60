/**
 * `npm run -s bench:timeline`: a contact's timeline on a contact with 10,000 events (BENCH_TIMELINE_EVENTS),
 * through the real handler (`invokeHttp`: routing, middy, zod, auth, ElectroDB — all but the network),
 * next to the raw Query of a page of the same size from the same index partition, and next to each
 * read's own DynamoDB work sent raw (its captured commands, round trip by round trip), measured in the
 * same run (interleaved). Prints one JSON document (also .bench/timeline.json); progress on stderr.
 */
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { encodeContactEventCursor } from '../../domain/contacts/contact-events.service';
import { createContact } from '../../domain/contacts/contacts.service';
import { createWorkspace } from '../../domain/workspaces/workspaces.service';
import { aboutContactKey } from '../../events/event-log';
import { sealCursorFor } from '../../functions/http/list-cursors';
import { contactsRoutes } from '../../functions/http/routes/contacts.routes';
import { invokeHttp } from '../../local/http-invoke';
import { countDynamoCalls } from '../support/dynamo-call-counter';
import { seedContactEvents } from '../support/seeded-events';
import { captureCommands, replayWaves, waves } from './dynamo-replay';
import {
  benchMeta,
  iterations,
  measureInterleaved,
  processMemory,
  progress,
  ratio,
  type MeasureResult,
  reserveStdout,
  resourceUsage,
  startBenchStack,
  startRun,
  writeReport,
} from './harness';

const eventCount = Number(process.env.BENCH_TIMELINE_EVENTS ?? 10_000);
const pageSize = 25;
/** The filtered page's type: 1 in 10 of the seeded events (test/support/seeded-events.ts). */
const filteredType = 'note.added';

async function main() {
  const stdout = reserveStdout();
  // A log line per request would be timed too (the handlers, loaded on first call, read it then).
  process.env.LOG_LEVEL ??= 'WARN';
  const run = startRun();
  const stack = await startBenchStack();
  try {
    const created = await createWorkspace(stack.deps, { name: 'Bench', ownerName: 'Bench Owner', ownerEmail: 'owner@bench.example' });
    const token = created.token.token;
    const caller = { workspaceId: created.workspace.id, userId: created.owner.id, role: 'owner' as const };
    const contact = await createContact(stack.deps, caller, { name: 'Timeline Person', channels: [] });

    progress(`seeding ${eventCount} events about one contact (BatchWriteItem)`);
    const seedStart = process.hrtime.bigint();
    const events = await seedContactEvents(stack.deps, caller, contact.id, eventCount, {
      startMs: Date.parse('2024-01-01T00:00:00Z'),
      stepMs: 5 * 60_000,
    });
    const seedSeconds = Number(process.hrtime.bigint() - seedStart) / 1e9;

    const path = `/v1/contacts/${contact.id}/timeline`;
    const get = async (query: Record<string, string | number>) => {
      const res = await invokeHttp('GET', path, { token, query });
      if (res.statusCode !== 200) throw new Error(`GET ${path}: ${res.statusCode} ${res.body}`);
      return JSON.parse(res.body ?? '{}') as { items: unknown[]; nextCursor: string | null };
    };
    const middle = events[Math.floor(eventCount / 2)]!.eventId;
    // Clients only pass sealed cursors: the middle page's is sealed as the route would seal it.
    const middleCursor = await sealCursorFor(
      caller,
      contactsRoutes,
      { operationId: 'listContactTimeline', params: { contactId: contact.id } },
      encodeContactEventCursor(contact.id, middle),
    );
    const queries = {
      firstPage: { limit: pageSize },
      typesFirstPage: { limit: pageSize, types: filteredType },
      middlePage: { limit: pageSize, cursor: middleCursor! },
    };

    // DynamoDB commands per request, on the client the handler uses (the token is cached after the first).
    const counter = countDynamoCalls(stack.rawClient);
    const shape: Record<string, unknown> = {};
    for (const [name, query] of Object.entries(queries)) {
      await get(query);
      counter.reset();
      const page = await get(query);
      shape[name] = { items: page.items.length, hasNextCursor: page.nextCursor !== null, calls: { ...counter.counts } };
    }
    // Each read's own DynamoDB work (a warm request: the token is cached), to send raw as its floor.
    const capture = captureCommands(stack.rawClient);
    const ownWork = {} as Record<keyof typeof queries, ReturnType<typeof waves>>;
    for (const [name, query] of Object.entries(queries) as [keyof typeof queries, (typeof queries)[keyof typeof queries]][]) {
      ownWork[name] = waves((await capture.during(() => get(query))).commands);
    }
    const ownRead = (name: keyof typeof queries) => replayWaves(stack, ownWork[name], (n) => `own#${n}#`);

    const partition = aboutContactKey(caller.workspaceId, contact.id);
    const rawPage = (extra: Record<string, unknown> = {}) =>
      stack.docClient.send(
        new QueryCommand({
          TableName: stack.tableName,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :pk',
          ExpressionAttributeValues: { ':pk': partition, ...(extra.values as object) },
          ScanIndexForward: false,
          Limit: pageSize,
          ...(extra.params as object),
        }),
      );
    progress('measuring (10 interleaved rounds)');
    const r = await measureInterleaved({
      // The floor: the raw Query of one page of the same size from the same partition.
      query: { iterations: iterations(500), fn: () => rawPage() },
      getItem: {
        iterations: iterations(500),
        fn: () => stack.docClient.send(new GetCommand({ TableName: stack.tableName, Key: { pk: `WS#${caller.workspaceId}#CONTACT#${contact.id}`, sk: 'CONTACT' } })),
      },
      // Not a budget floor: the raw DynamoDB work of the filtered page (a window of 10 × limit entries, filtered).
      typesQueryPattern: {
        iterations: iterations(300),
        fn: () =>
          rawPage({
            values: { ':type': filteredType },
            params: { FilterExpression: '#type = :type', ExpressionAttributeNames: { '#type': 'type' }, Limit: pageSize * 10 },
          }),
      },
      // Each read's own DynamoDB work, raw: the floor its overhead is measured against.
      firstPageOwnRead: { iterations: iterations(500), fn: ownRead('firstPage') },
      typesFirstPageOwnRead: { iterations: iterations(300), fn: ownRead('typesFirstPage') },
      middlePageOwnRead: { iterations: iterations(300), fn: ownRead('middlePage') },
      firstPage: { iterations: iterations(500), fn: () => get(queries.firstPage) },
      typesFirstPage: { iterations: iterations(300), fn: () => get(queries.typesFirstPage) },
      middlePage: { iterations: iterations(300), fn: () => get(queries.middlePage) },
    });
    const againstOwnRead = (read: MeasureResult, own: MeasureResult, commands: ReturnType<typeof waves>) => ({
      ratioToOwnReadP50: ratio(read, own),
      ratioToOwnReadP99: ratio(read, own, 'p99Ms'),
      ownRead: { ...own, roundTrips: commands.map((wave) => wave.map((command) => command.name)) },
    });

    const api = {
      firstPage: {
        ...r.firstPage,
        ratioToQueryP50: ratio(r.firstPage, r.query),
        ratioToQueryP99: ratio(r.firstPage, r.query, 'p99Ms'),
        ...againstOwnRead(r.firstPage, r.firstPageOwnRead, ownWork.firstPage),
      },
      typesFirstPage: {
        ...r.typesFirstPage,
        ratioToQueryP50: ratio(r.typesFirstPage, r.query),
        ratioToQueryP99: ratio(r.typesFirstPage, r.query, 'p99Ms'),
        ratioToTypesQueryPatternP50: ratio(r.typesFirstPage, r.typesQueryPattern),
        ...againstOwnRead(r.typesFirstPage, r.typesFirstPageOwnRead, ownWork.typesFirstPage),
      },
      middlePage: {
        ...r.middlePage,
        ratioToQueryP50: ratio(r.middlePage, r.query),
        ratioToQueryP99: ratio(r.middlePage, r.query, 'p99Ms'),
        ...againstOwnRead(r.middlePage, r.middlePageOwnRead, ownWork.middlePage),
      },
    };
    const withinOwnReadBudget = (read: { ratioToOwnReadP50: number; ratioToOwnReadP99: number }) =>
      read.ratioToOwnReadP50 <= 1.5 && read.ratioToOwnReadP99 <= 2;
    writeReport(
      'timeline',
      {
        meta: benchMeta(run),
        seed: { events: eventCount, seconds: Math.round(seedSeconds * 10) / 10, eventsPerSecond: Math.round(eventCount / seedSeconds) },
        floors: { query: r.query, getItem: r.getItem, typesQueryPattern: r.typesQueryPattern },
        api,
        shape,
        budget: {
          firstPageP50Ratio: api.firstPage.ratioToQueryP50,
          withinBudget: api.firstPage.ratioToQueryP50 <= 2,
          note: 'budget: the first page p50 ≤ 2× the raw Query floor of a page of the same size from the same partition',
          // Issue 17: per-request overhead, each read against its own DynamoDB work sent raw.
          requestOverhead: {
            rule: 'p50 ≤ 1.5× and p99 ≤ 2× the read\'s own DynamoDB work sent raw',
            withinBudget: {
              firstPage: withinOwnReadBudget(api.firstPage),
              typesFirstPage: withinOwnReadBudget(api.typesFirstPage),
              middlePage: withinOwnReadBudget(api.middlePage),
            },
          },
        },
        memory: { benchProcess: resourceUsage(), dynamoDbLocal: processMemory(stack.emulatorPid) },
      },
      stdout,
    );
  } finally {
    await stack.stop();
  }
}

await main();
