/**
 * `npm run -s bench:inbox`: the inbox on a workspace of 10,000 conversations and 200,000 messages
 * (BENCH_QUICK=1: 300 and 6,000), seeded with BatchWriteItem in the exact shape the services write
 * (test/support/seeded-inbox.ts), then measured through the real handlers (`invokeHttp`): a view's
 * first page, a long conversation's messages page, the unread counts, against the raw Query floor of
 * the same run; an inbound ingest against the raw TransactWriteItems of the items it writes; and
 * 1,000 ingests at concurrency 32, each sent twice, checked against a recount. Prints one JSON
 * document (also .bench/inbox.json); progress on stderr. Exits 1 when a check of the concurrent run fails.
 */
import { QueryCommand as RawQueryCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { NativeAttributeValue } from '@aws-sdk/util-dynamodb';
import { createToken } from '../../domain/auth/tokens.service';
import { allList, assigneeList, isCountedList } from '../../domain/inbox/conversation-record';
import { conversationStatuses } from '../../domain/inbox/inbox.entity';
import type { CallerContext } from '../../domain/shared/context';
import { addUser } from '../../domain/users/users.service';
import { createWorkspace } from '../../domain/workspaces/workspaces.service';
import { invokeHttp } from '../../local/http-invoke';
import { loadHandler } from '../../local/handlers';
import { startStreamPoller } from '../../local/stream-poller';
import { streamConsumers } from '../../functions/streams/stream-consumers';
import { countDynamoCalls, inBackground } from '../support/dynamo-call-counter';
import { captureCommands, replay, rewriteTransaction, type Captured } from './dynamo-replay';
import {
  batchPutter,
  countItems,
  planConversations,
  planUnread,
  seedConversation,
  type InboxSeedOptions,
  type SeededConversation,
} from '../support/seeded-inbox';
import {
  benchMeta,
  iterations,
  measureInterleaved,
  percentile,
  processMemory,
  progress,
  quick,
  ratio,
  reserveStdout,
  resourceUsage,
  runConcurrent,
  startBenchStack,
  startRun,
  summarise,
  writeReport,
  type BenchStack,
  type MeasureResult,
} from './harness';

const positiveInt = (name: string, fallback: number) => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer, got ${raw}`);
  return value;
};

const conversationTotal = positiveInt('BENCH_INBOX_CONVERSATIONS', quick ? 300 : 10_000);
const messageTotal = positiveInt('BENCH_INBOX_MESSAGES', quick ? 6_000 : 200_000);
const longConversations = quick ? [2_000, 1_000] : [12_000, 11_000, 10_000];
/** The concurrent run: distinct ingests, each sent twice, `concurrency` in flight. */
const concurrentIngests = positiveInt('BENCH_INBOX_INGESTS', quick ? 100 : 1_000);
const concurrency = 32;
/** Conversations with unread messages for the member who has many, and for the admin with a history. */
const unreadHeavy = quick ? 100 : 500;
const pageSize = 25;
/** Budgets of issue 12 for the reads, as ratios to the run's raw Query floor. */
const budgetP50 = 1.5;
const budgetP99 = 2;

async function main() {
  const stdout = reserveStdout();
  process.env.LOG_LEVEL ??= 'WARN';
  const run = startRun();
  const stack = await startBenchStack();
  // The unread totals are kept by their stream consumer, as on AWS: it reads every counter written.
  const unreadTotalsConsumer = streamConsumers.find((consumer) => consumer.name === 'unread-totals')!;
  const streams = await startStreamPoller({
    endpoint: stack.endpoint,
    tableName: stack.tableName,
    consumers: [{ definition: unreadTotalsConsumer, handler: inBackground(await loadHandler(unreadTotalsConsumer.entry)) }],
    pollIntervalMs: 50,
    logger: { debug() {}, info() {}, warn: (m, e) => progress(`stream: ${m} ${JSON.stringify(e ?? {})}`), error: (m, e) => progress(`stream: ${m} ${JSON.stringify(e ?? {})}`) },
  });
  let failed = false;
  try {
    // ---------------------------------------------------------------------------------------
    // The workspace: an owner, an admin, three members, a token each
    const created = await createWorkspace(stack.deps, {
      name: 'Bench inbox',
      ownerName: 'Olga Owner',
      ownerEmail: 'owner@bench.example',
    });
    const workspaceId = created.workspace.id;
    const ownerCaller: CallerContext = { workspaceId, userId: created.owner.id, role: 'owner' };
    const people = { owner: { userId: created.owner.id, token: created.token.token } } as Record<
      'owner' | 'admin' | 'uma' | 'max' | 'nia',
      { userId: string; token: string }
    >;
    for (const [key, name, role] of [
      ['admin', 'Adam Admin', 'admin'],
      ['uma', 'Uma Unread', 'member'],
      ['max', 'Max Member', 'member'],
      ['nia', 'Nia Member', 'member'],
    ] as const) {
      const user = await addUser(stack.deps, ownerCaller, { name, email: `${key}@bench.example`, role });
      const token = await createToken(stack.deps, ownerCaller, { userId: user.id, name: 'Bench' });
      people[key] = { userId: user.id, token: token.token };
    }
    const userIds = Object.values(people).map((person) => person.userId);

    // ---------------------------------------------------------------------------------------
    // Seed
    const options: InboxSeedOptions = {
      workspaceId,
      ownerUserId: created.owner.id,
      assignees: [
        people.uma.userId,
        people.max.userId,
        people.nia.userId,
        people.owner.userId,
        people.admin.userId,
      ],
      conversations: conversationTotal,
      messages: messageTotal,
      longConversations,
      unreadConversations: {
        [people.uma.userId]: unreadHeavy,
        [people.admin.userId]: unreadHeavy,
        [people.owner.userId]: 50,
        [people.max.userId]: 100,
        [people.nia.userId]: 100,
      },
      historyUsers: [people.admin.userId],
      endMs: Date.now() - 60_000,
    };
    progress(
      `seeding ${conversationTotal} conversations, ${messageTotal} messages (long: ${longConversations.join(', ')}) with BatchWriteItem`,
    );
    const seedStart = process.hrtime.bigint();
    const plans = planConversations(options);
    const unread = planUnread(plans, options);
    const putter = batchPutter(stack.docClient, stack.tableName, 8);
    const seeded: SeededConversation[] = new Array(plans.length);
    let lastReport = 0;
    await runConcurrent(plans.length, 4, async (index) => {
      seeded[index] = await seedConversation(
        stack.deps.db,
        options,
        plans[index]!,
        unread.get(index),
        (items) => putter.put(items),
      );
      const seconds = Number(process.hrtime.bigint() - seedStart) / 1e9;
      if (seconds - lastReport > 10) {
        lastReport = seconds;
        progress(
          `seed: ${putter.stats.items} items, ${Math.round(putter.stats.items / seconds)} items/s, max in flight ${putter.stats.maxInFlight}`,
        );
      }
    });
    await putter.put(
      countItems(
        stack.deps.db,
        workspaceId,
        seeded.map((conversation) => conversation.item),
      ),
    );
    await putter.flush();
    const seedSeconds = Number(process.hrtime.bigint() - seedStart) / 1e9;
    progress(`seeded ${putter.stats.items} items in ${seedSeconds.toFixed(1)} s`);
    // The consumer folds the seeded counters into each user's totals while the seed runs: how far behind it ends.
    const catchUpStart = process.hrtime.bigint();
    await streams.drain({ timeoutMs: 600_000 });
    const totalsCatchUpSeconds = Number(process.hrtime.bigint() - catchUpStart) / 1e9;
    progress(`unread totals caught up ${totalsCatchUpSeconds.toFixed(1)} s after the seed`);

    const unreadPlanned = Object.fromEntries(
      Object.entries(people).map(([key, person]) => {
        let conversations = 0;
        let messages = 0;
        for (const perUser of unread.values()) {
          const count = perUser.get(person.userId);
          if (count) {
            conversations++;
            messages += count;
          }
        }
        return [key, { conversations, messages }];
      }),
    );
    const sortedCounts = plans.map((plan) => plan.messages).sort((a, b) => a - b);

    // ---------------------------------------------------------------------------------------
    // What is read and written
    const long = seeded[0]!;
    /** A conversation of a few dozen messages: its first page is as full as the long one's. */
    const others = seeded.slice(longConversations.length);
    const short =
      others.find((conversation) => conversation.plan.messages >= 30 && conversation.plan.messages <= 60) ??
      others.reduce((a, b) => (b.plan.messages > a.plan.messages ? b : a));
    const isPoolOpenEmail = (conversation: SeededConversation) =>
      conversation.plan.index >= longConversations.length &&
      conversation.plan.status === 'open' &&
      !conversation.plan.assigneeId &&
      conversation.plan.channel === 'email';
    /** Ingest targets: open pool conversations (every user gets a receipt), the longest one among them. */
    const targets = [long, ...seeded.filter(isPoolOpenEmail).slice(0, 49)];
    const targetIds = new Set(targets.map((target) => target.item.conversationId));
    /**
     * Senders of the concurrent run: half known contacts (any status, pool or assigned), half new
     * addresses; each sends two messages at once (ingests 2k and 2k+1), then again `senderCount` later.
     */
    const senderCount = Math.max(20, Math.round(concurrentIngests / 10));
    const knownSenders = seeded
      .slice()
      .reverse()
      .filter(
        (conversation) =>
          !targetIds.has(conversation.item.conversationId) && conversation.plan.messages <= 60,
      )
      .slice(0, Math.ceil(senderCount / 2));
    const senders = Array.from({ length: senderCount }, (_, k) =>
      k % 2 === 0 && knownSenders[k / 2]
        ? {
            channel: knownSenders[k / 2]!.plan.channel,
            from: knownSenders[k / 2]!.from,
            known: knownSenders[k / 2]!,
          }
        : { channel: 'email' as const, from: `new.sender.${k}@bench-senders.example`, known: undefined },
    );

    const senderOf = (index: number) => senders[Math.floor(index / 2) % senders.length]!;
    const counter = countDynamoCalls(stack.rawClient);
    const capture = captureCommands(stack.rawClient);
    const api = async (
      method: string,
      path: string,
      token: string,
      query?: Record<string, string | number>,
      body?: unknown,
    ) => {
      const res = await invokeHttp(method, path, {
        token,
        ...(query ? { query } : {}),
        ...(body ? { body } : {}),
      });
      if (res.statusCode !== 200 && res.statusCode !== 201)
        throw new Error(`${method} ${path}: ${res.statusCode} ${res.body}`);
      return { status: res.statusCode, body: JSON.parse(res.body ?? '{}') as Record<string, unknown> };
    };

    const reads = {
      viewAll: () => api('GET', '/v1/conversations', people.owner.token, { view: 'all', limit: pageSize }),
      viewUnassignedWaiting: () =>
        api('GET', '/v1/conversations', people.owner.token, {
          view: 'unassigned',
          sort: 'waiting',
          limit: pageSize,
        }),
      messagesLong: () =>
        api('GET', `/v1/conversations/${long.item.conversationId}/messages`, people.owner.token, {
          limit: pageSize,
        }),
      messagesShort: () =>
        api('GET', `/v1/conversations/${short.item.conversationId}/messages`, people.owner.token, {
          limit: pageSize,
        }),
      unreadCounts: () => api('GET', '/v1/inbox/unread', people.uma.token),
      unreadCountsHistory: () => api('GET', '/v1/inbox/unread', people.admin.token),
    };
    type ReadName = keyof typeof reads;

    // One warm request of each (the token cached), counted and captured: the Queries it sends are its pattern floor.
    const shape = {} as Record<ReadName, Record<string, unknown>>;
    const patterns = {} as Record<ReadName, Captured[]>;
    for (const [name, read] of Object.entries(reads) as [ReadName, () => ReturnType<typeof api>][]) {
      await read();
      counter.reset();
      const { result, commands } = await capture.during(read);
      const body = result.body as {
        items?: unknown[];
        nextCursor?: string | null;
        conversations?: unknown[];
        total?: number;
      };
      patterns[name] = commands.filter((command) => command.name === 'QueryCommand');
      shape[name] = {
        calls: { ...counter.counts },
        ...(body.items ? { items: body.items.length, hasNextCursor: Boolean(body.nextCursor) } : {}),
        ...(body.conversations
          ? { conversationsWithUnread: body.conversations.length, total: body.total }
          : {}),
        queryLimit: patterns[name][0]?.input.Limit ?? null,
      };
    }
    const rawQueries = async (commands: Captured[]) => {
      for (const command of commands) await replay(stack, command);
    };
    // How many counter items the unread reads go through (the raw Query, every page).
    const countersRead = async (userId: string) => {
      let items = 0;
      let key: Record<string, unknown> | undefined;
      do {
        const page = await stack.docClient.send(
          new QueryCommand({
            TableName: stack.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :conv)',
            ExpressionAttributeValues: { ':pk': `WS#${workspaceId}#UNREAD#${userId}`, ':conv': 'CONV#' },
            ExclusiveStartKey: key,
          }),
        );
        items += page.Items?.length ?? 0;
        key = page.LastEvaluatedKey;
      } while (key);
      return items;
    };
    shape.unreadCounts.counterItems = await countersRead(people.uma.userId);
    shape.unreadCountsHistory.counterItems = await countersRead(people.admin.userId);

    progress('measuring the reads (10 interleaved rounds)');
    const budgetReads = await measureInterleaved({
      query: { iterations: iterations(500), fn: () => rawQueries(patterns.viewAll) },
      waitingQuery: { iterations: iterations(300), fn: () => rawQueries(patterns.viewUnassignedWaiting) },
      messagesQuery: { iterations: iterations(300), fn: () => rawQueries(patterns.messagesLong) },
      messagesShortQuery: { iterations: iterations(300), fn: () => rawQueries(patterns.messagesShort) },
      unreadQuery: { iterations: iterations(300), fn: () => rawQueries(patterns.unreadCounts) },
      viewAll: { iterations: iterations(500), fn: reads.viewAll },
      viewUnassignedWaiting: { iterations: iterations(300), fn: reads.viewUnassignedWaiting },
      messagesLong: { iterations: iterations(500), fn: reads.messagesLong },
      messagesShort: { iterations: iterations(300), fn: reads.messagesShort },
      unreadCounts: { iterations: iterations(300), fn: reads.unreadCounts },
    });
    // Apart: its megabytes per request would put garbage collection into the other reads' timings.
    progress('measuring the unread counts of the admin, a counter in every conversation (10 interleaved rounds)');
    const historyReads = await measureInterleaved({
      unreadHistoryQuery: { iterations: iterations(100), fn: () => rawQueries(patterns.unreadCountsHistory) },
      unreadCountsHistory: { iterations: iterations(100), fn: reads.unreadCountsHistory },
    });
    const r = { ...budgetReads, ...historyReads };
    const patternOf: Record<ReadName, MeasureResult> = {
      viewAll: r.query,
      viewUnassignedWaiting: r.waitingQuery,
      messagesLong: r.messagesQuery,
      messagesShort: r.messagesShortQuery,
      unreadCounts: r.unreadQuery,
      unreadCountsHistory: r.unreadHistoryQuery,
    };
    const apiReads = Object.fromEntries(
      (Object.keys(reads) as ReadName[]).map((name) => [
        name,
        {
          ...r[name],
          ratioToQueryP50: ratio(r[name], r.query),
          ratioToQueryP99: ratio(r[name], r.query, 'p99Ms'),
          ratioToOwnQueryP50: ratio(r[name], patternOf[name]),
          ratioToOwnQueryP99: ratio(r[name], patternOf[name], 'p99Ms'),
        },
      ]),
    ) as unknown as Record<
      ReadName,
      MeasureResult &
        Record<'ratioToQueryP50' | 'ratioToQueryP99' | 'ratioToOwnQueryP50' | 'ratioToOwnQueryP99', number>
    >;

    // ---------------------------------------------------------------------------------------
    // Ingest: through the handler, against the raw writes (and round trips) it needs
    let ingestCall = 0;
    /** Items per TransactWriteItems of the measured ingests: how many of each size. */
    const transactionSizes = new Map<number, number>();
    const ingestBody = (target: SeededConversation, externalId: string) => ({
      channel: target.plan.channel,
      from: target.from,
      externalId,
      body: `Bench message ${externalId}: is there any update on my order?`,
    });
    const ingestOnce = async () => {
      const n = ingestCall++;
      const target = targets[n % targets.length]!;
      const { result: res, commands } = await capture.during(() =>
        api('POST', '/v1/inbound-messages', people.owner.token, undefined, ingestBody(target, `bench-${n}`)),
      );
      for (const command of commands.filter((c) => c.name === 'TransactWriteItemsCommand')) {
        const size = (command.input.TransactItems as unknown[]).length;
        transactionSizes.set(size, (transactionSizes.get(size) ?? 0) + 1);
      }
      if (res.status !== 201 || res.body.conversationId !== target.item.conversationId) {
        throw new Error(
          `ingest ${n}: ${res.status} into ${String(res.body.conversationId)}, expected 201 into ${target.item.conversationId}`,
        );
      }
      return { res, commands };
    };
    await ingestOnce();
    counter.reset();
    const { commands: ingestCommands } = await ingestOnce();
    const ingestCalls = { ...counter.counts };
    const transaction = ingestCommands.find((command) => command.name === 'TransactWriteItemsCommand')!;
    const ingestItems = (transaction.input.TransactItems as unknown[]).length;
    const reads4 = ingestCommands.filter((command) => command.name !== 'TransactWriteItemsCommand');
    let rawCall = 0;
    const rawTransaction = () =>
      replay(stack, {
        name: 'TransactWriteItemsCommand',
        input: rewriteTransaction(transaction.input, `BENCHTX#${rawCall++}#`),
      });
    const rawIngestPattern = async () => {
      // The handler's round trips: the guards ∥ the users, the contact's conversation guard, the conversation, the write.
      const [first, second, ...rest] = reads4;
      await Promise.all([replay(stack, first!), replay(stack, second!)]);
      for (const command of rest) await replay(stack, command);
      await rawTransaction();
    };
    transactionSizes.clear();
    progress(`measuring ingests (${ingestItems} items per transaction; 10 interleaved rounds)`);
    const w = await measureInterleaved({
      transactWrite: { iterations: iterations(300), fn: rawTransaction },
      ingestPattern: { iterations: iterations(300), fn: rawIngestPattern },
      ingest: { iterations: iterations(300), fn: ingestOnce },
    });
    const ingestTransactionSizes = Object.fromEntries([...transactionSizes].sort((a, b) => a[0] - b[0]));

    // ---------------------------------------------------------------------------------------
    // Concurrent ingests, each sent twice: exactly one message each, counts equal to a recount
    const touchedBefore = new Map<string, { messages: number; messageCount: number }>();
    for (const sender of senders) {
      if (!sender.known) continue;
      const id = sender.known.item.conversationId;
      touchedBefore.set(id, {
        messages: await countMessages(stack, workspaceId, id),
        messageCount: await messageCountOf(stack, workspaceId, id),
      });
    }
    progress(
      `concurrent run: ${concurrentIngests} ingests from ${senderCount} senders, each sent twice, ${concurrency} at once`,
    );
    const results: {
      index: number;
      status: number;
      messageId: string;
      conversationId: string;
      contactId: string;
      ms: number;
    }[] = [];
    const errors: string[] = [];
    const send = async (index: number) => {
      const sender = senderOf(index);
      const started = process.hrtime.bigint();
      const res = await invokeHttp('POST', '/v1/inbound-messages', {
        token: people.owner.token,
        body: {
          channel: sender.channel,
          from: sender.from,
          name: sender.known ? undefined : `New Sender ${senders.indexOf(sender)}`,
          externalId: `concurrent-${index}`,
          body: `Concurrent message ${index}`,
        },
      });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (res.statusCode !== 200 && res.statusCode !== 201) {
        errors.push(`${index}: ${res.statusCode} ${res.body?.slice(0, 300)}`);
        return;
      }
      const body = JSON.parse(res.body ?? '{}') as {
        message: { id: string };
        conversationId: string;
        contactId: string;
      };
      results.push({
        index,
        status: res.statusCode,
        messageId: body.message.id,
        conversationId: body.conversationId,
        contactId: body.contactId,
        ms,
      });
    };
    counter.reset();
    const concurrentStart = process.hrtime.bigint();
    await runConcurrent(concurrentIngests, concurrency, async (index) => {
      // Even: the duplicate races the first; odd: it follows right after the first answered.
      if (index % 2 === 0) await Promise.all([send(index), send(index)]);
      else {
        await send(index);
        await send(index);
      }
    });
    const concurrentSeconds = Number(process.hrtime.bigint() - concurrentStart) / 1e9;
    const concurrentCalls = { ...counter.counts };

    progress('checking the concurrent run against a recount');
    const byIndex = new Map<number, typeof results>();
    for (const result of results) byIndex.set(result.index, [...(byIndex.get(result.index) ?? []), result]);
    const pairsAgree = [...byIndex.values()].every(
      (pair) => pair.length === 2 && pair[0]!.messageId === pair[1]!.messageId,
    );
    const created201 = results.filter((result) => result.status === 201).length;
    const replayed200 = results.filter((result) => result.status === 200).length;
    const distinctMessages = new Set(results.map((result) => result.messageId)).size;
    const touched = new Set(results.map((result) => result.conversationId));
    let storedMessages = 0;
    let messageCountDelta = 0;
    for (const conversationId of touched) {
      const before = touchedBefore.get(conversationId) ?? { messages: 0, messageCount: 0 };
      storedMessages += (await countMessages(stack, workspaceId, conversationId)) - before.messages;
      messageCountDelta += (await messageCountOf(stack, workspaceId, conversationId)) - before.messageCount;
    }
    const perSender = new Map<number, { conversations: Set<string>; contacts: Set<string> }>();
    for (const result of results) {
      const k = senders.indexOf(senderOf(result.index));
      const entry = perSender.get(k) ?? { conversations: new Set(), contacts: new Set() };
      entry.conversations.add(result.conversationId);
      entry.contacts.add(result.contactId);
      perSender.set(k, entry);
    }
    const oneConversationPerSender = [...perSender.values()].every(
      (entry) => entry.conversations.size === 1 && entry.contacts.size === 1,
    );

    await streams.drain({ timeoutMs: 120_000 });
    const unreadRecount = {} as Record<
      string,
      { counters: number; unreadMessages: number; recount: number; apiTotal: number; mismatches: number }
    >;
    for (const [key, person] of Object.entries(people)) {
      const counters = await queryAll(stack, {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :conv)',
        ExpressionAttributeValues: { ':pk': `WS#${workspaceId}#UNREAD#${person.userId}`, ':conv': 'CONV#' },
      });
      const receipts = await queryAll(stack, {
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': `WS#${workspaceId}#UNREAD#${person.userId}` },
      });
      const recount = new Map<string, number>();
      for (const receipt of receipts) {
        if (receipt.status === 'unread')
          recount.set(
            receipt.conversationId as string,
            (recount.get(receipt.conversationId as string) ?? 0) + 1,
          );
      }
      let mismatches = 0;
      let total = 0;
      const seen = new Set<string>();
      for (const item of counters) {
        seen.add(item.conversationId as string);
        total += Math.max(0, item.unread as number);
        if ((item.unread as number) !== (recount.get(item.conversationId as string) ?? 0)) mismatches++;
      }
      for (const conversationId of recount.keys()) if (!seen.has(conversationId)) mismatches++;
      const apiTotal = (await api('GET', '/v1/inbox/unread', person.token)).body.total as number;
      unreadRecount[key] = {
        counters: counters.length,
        unreadMessages: total,
        recount: [...recount.values()].reduce((sum, n) => sum + n, 0),
        apiTotal,
        mismatches,
      };
    }
    const unreadCountsMatch = Object.values(unreadRecount).every(
      (entry) =>
        entry.mismatches === 0 && entry.unreadMessages === entry.recount && entry.apiTotal === entry.recount,
    );
    const viewCounts = await recountViews(stack, workspaceId, userIds);
    const checks = {
      noErrors: errors.length === 0,
      oneCreatedAndOneReplayedEach: created201 === concurrentIngests && replayed200 === concurrentIngests,
      duplicatesReturnTheSameMessage: pairsAgree && byIndex.size === concurrentIngests,
      exactlyOneMessageStoredEach:
        storedMessages === concurrentIngests && distinctMessages === concurrentIngests,
      conversationMessageCountsFollow: messageCountDelta === concurrentIngests,
      oneContactAndConversationPerSender: oneConversationPerSender,
      unreadCountersEqualRecount: unreadCountsMatch,
      viewCountsEqualRecount: viewCounts.mismatches.length === 0,
    };
    const allHeld = Object.values(checks).every(Boolean);
    failed = !allHeld;

    // ---------------------------------------------------------------------------------------
    // The seed's shape against what the services wrote (a new conversation of the concurrent run)
    const fresh = results.find((result) => !touchedBefore.has(result.conversationId))!;
    const knownIds = new Set(knownSenders.map((conversation) => conversation.item.conversationId));
    const seededSample = seeded.find(
      (conversation) =>
        isPoolOpenEmail(conversation) &&
        !targetIds.has(conversation.item.conversationId) &&
        !knownIds.has(conversation.item.conversationId) &&
        unread.has(conversation.plan.index),
    )!;
    const sampleUser = [...unread.get(seededSample.plan.index)!.keys()][0]!;
    const shapeCheck = await compareShapes(stack, workspaceId, {
      seeded: {
        conversationId: seededSample.item.conversationId,
        messageId: seededSample.lastMessageId,
        userId: sampleUser,
      },
      service: { conversationId: fresh.conversationId, messageId: fresh.messageId, userId: sampleUser },
    });

    const concurrentLatency = summarise(
      'concurrentIngestRequest',
      results.map((result) => result.ms),
    );
    const ingest = {
      ...w.ingest,
      itemsWritten: ingestItems,
      transactionSizes: ingestTransactionSizes,
      calls: ingestCalls,
      ratioToTransactWriteP50: ratio(w.ingest, w.transactWrite),
      ratioToTransactWriteP99: ratio(w.ingest, w.transactWrite, 'p99Ms'),
      ratioToRoundTripsP50: ratio(w.ingest, w.ingestPattern),
      ratioToRoundTripsP99: ratio(w.ingest, w.ingestPattern, 'p99Ms'),
    };
    const withinBudget = (name: ReadName) =>
      apiReads[name].ratioToQueryP50 <= budgetP50 && apiReads[name].ratioToQueryP99 <= budgetP99;
    const report = {
      meta: benchMeta(run),
      seed: {
        workspaceId,
        conversations: conversationTotal,
        messages: messageTotal,
        longConversations: longConversations.map((messages, index) => ({
          conversationId: seeded[index]!.item.conversationId,
          messages,
          assigned: index > 0,
        })),
        messagesPerConversation: {
          p50: percentile(sortedCounts, 50),
          p90: percentile(sortedCounts, 90),
          p99: percentile(sortedCounts, 99),
          max: sortedCounts[sortedCounts.length - 1],
          min: sortedCounts[0],
        },
        statuses: Object.fromEntries(
          conversationStatuses.map((status) => [
            status,
            plans.filter((plan) => plan.status === status).length,
          ]),
        ),
        pool: plans.filter((plan) => !plan.assigneeId).length,
        unread: unreadPlanned,
        items: putter.stats.items,
        seconds: Math.round(seedSeconds * 10) / 10,
        unreadTotalsCatchUpSeconds: Math.round(totalsCatchUpSeconds * 10) / 10,
        itemsPerSecond: Math.round(putter.stats.items / seedSeconds),
        unprocessedRetries: putter.stats.unprocessedRetries,
        shape: shapeCheck,
        notWritten:
          'events, contacts’ list entries and search tokens, read receipts, external-id guards of seeded messages: no measured request reads them',
      },
      floors: {
        query: {
          ...r.query,
          what: `the raw Query of the view=all first page: ${pageSize} list entries from gsi1 of the all:open list (the run's Query floor)`,
        },
        waitingQuery: {
          ...r.waitingQuery,
          what: 'the raw Query of the view=unassigned&sort=waiting first page (gsi2)',
        },
        messagesQuery: {
          ...r.messagesQuery,
          what: `the raw Query of a messages page of the ${longConversations[0]}-message conversation`,
        },
        messagesShortQuery: {
          ...r.messagesShortQuery,
          what: `the same on a ${short.plan.messages}-message conversation`,
        },
        unreadQuery: {
          ...r.unreadQuery,
          what: `the raw Query (every page) of the counters of the member with unread in ${unreadPlanned.uma!.conversations} conversations`,
        },
        unreadHistoryQuery: {
          ...r.unreadHistoryQuery,
          what: `the same for the admin: unread in ${unreadPlanned.admin!.conversations} conversations and a counter at 0 in every other one`,
        },
        transactWrite: {
          ...w.transactWrite,
          what: `a raw TransactWriteItems of the ${ingestItems} items an ingest writes (the same items under other keys, no conditions)`,
        },
        ingestPattern: {
          ...w.ingestPattern,
          what: 'the ingest’s raw round trips: BatchGetItem ∥ Query, GetItem, GetItem, then that TransactWriteItems',
        },
      },
      api: { ...apiReads, ingest },
      shape,
      concurrent: {
        ingests: concurrentIngests,
        requests: concurrentIngests * 2,
        concurrency,
        senders: {
          total: senderCount,
          known: knownSenders.length,
          statusesOfKnown: countBy(knownSenders.map((s) => s.plan.status)),
        },
        seconds: Math.round(concurrentSeconds * 100) / 100,
        requestsPerSecond: Math.round((concurrentIngests * 2) / concurrentSeconds),
        ingestsPerSecond: Math.round(concurrentIngests / concurrentSeconds),
        latency: concurrentLatency,
        status201: created201,
        status200: replayed200,
        errors: errors.slice(0, 10),
        storedMessages,
        messageCountDelta,
        transactionsPerStoredMessage:
          Math.round(((concurrentCalls.TransactWriteItemsCommand ?? 0) / Math.max(1, storedMessages)) * 100) /
          100,
        calls: concurrentCalls,
        unreadRecount,
        viewCounts,
        checks,
        allHeld,
      },
      budget: {
        rule: `p50 ≤ ${budgetP50}× and p99 ≤ ${budgetP99}× the run's raw Query floor (floors.query)`,
        reads: Object.fromEntries(
          (Object.keys(reads) as ReadName[]).map((name) => [
            name,
            {
              p50Ratio: apiReads[name].ratioToQueryP50,
              p99Ratio: apiReads[name].ratioToQueryP99,
              withinBudget: withinBudget(name),
            },
          ]),
        ),
        ingestP50RatioToTransactWrite: ingest.ratioToTransactWriteP50,
        concurrentChecksHeld: allHeld,
      },
      memory: { benchProcess: resourceUsage(), dynamoDbLocal: processMemory(stack.emulatorPid) },
    };
    writeReport('inbox', report, stdout);
    progress(
      `done in ${report.meta.durationSeconds} s; written to .bench/inbox.json${allHeld ? '' : ' — A CHECK OF THE CONCURRENT RUN FAILED'}`,
    );
  } finally {
    await streams.stop();
    await stack.stop();
  }
  if (failed) process.exitCode = 1;
}

// ---------------------------------------------------------------------------------------------
// Helpers

async function queryAll(
  stack: BenchStack,
  params: Record<string, unknown>,
): Promise<Record<string, NativeAttributeValue>[]> {
  const items: Record<string, NativeAttributeValue>[] = [];
  let key: Record<string, unknown> | undefined;
  do {
    const page = await stack.docClient.send(
      new QueryCommand({ TableName: stack.tableName, ...params, ExclusiveStartKey: key } as never),
    );
    items.push(...(page.Items ?? []));
    key = page.LastEvaluatedKey;
  } while (key);
  return items;
}

/** Messages stored in a conversation's partition (Select COUNT, every page). */
async function countMessages(
  stack: BenchStack,
  workspaceId: string,
  conversationId: string,
): Promise<number> {
  let count = 0;
  let key: Record<string, never> | undefined;
  do {
    const page = await stack.rawClient.send(
      new RawQueryCommand({
        TableName: stack.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :msg)',
        ExpressionAttributeValues: {
          ':pk': { S: `WS#${workspaceId}#CONV#${conversationId}` },
          ':msg': { S: 'MSG#' },
        },
        Select: 'COUNT',
        ExclusiveStartKey: key,
      }),
    );
    count += page.Count ?? 0;
    key = page.LastEvaluatedKey as typeof key;
  } while (key);
  return count;
}

async function messageCountOf(
  stack: BenchStack,
  workspaceId: string,
  conversationId: string,
): Promise<number> {
  const { Item } = await stack.docClient.send(
    new GetCommand({
      TableName: stack.tableName,
      Key: { pk: `WS#${workspaceId}#CONV#${conversationId}`, sk: 'CONV' },
      ConsistentRead: true,
    }),
  );
  return (Item?.messageCount as number | undefined) ?? 0;
}

/** Every counted view list (all, and each assignee's, per status): its count item against the entries it holds. */
async function recountViews(stack: BenchStack, workspaceId: string, userIds: string[]) {
  const lists = conversationStatuses.flatMap((status) => [
    allList(status),
    assigneeList(undefined, status),
    ...userIds.map((id) => assigneeList(id, status)),
  ]);
  const mismatches: { list: string; count: number; entries: number }[] = [];
  let entriesTotal = 0;
  for (const list of lists.filter(isCountedList)) {
    const pk = `WS#${workspaceId}#CV#${list}`;
    const { Item } = await stack.docClient.send(
      new GetCommand({ TableName: stack.tableName, Key: { pk, sk: '#COUNT' }, ConsistentRead: true }),
    );
    let entries = 0;
    let key: Record<string, never> | undefined;
    do {
      const page = await stack.rawClient.send(
        new RawQueryCommand({
          TableName: stack.tableName,
          KeyConditionExpression: 'pk = :pk AND sk > :count',
          ExpressionAttributeValues: { ':pk': { S: pk }, ':count': { S: '#COUNT' } },
          Select: 'COUNT',
          ConsistentRead: true,
          ExclusiveStartKey: key,
        }),
      );
      entries += page.Count ?? 0;
      key = page.LastEvaluatedKey as typeof key;
    } while (key);
    entriesTotal += entries;
    const count = (Item?.count as number | undefined) ?? 0;
    if (count !== entries) mismatches.push({ list, count, entries });
  }
  return { lists: lists.length, entries: entriesTotal, mismatches };
}

/**
 * The attribute names and key patterns (ids and times masked) of the items of one inbound message in
 * a pool conversation, seeded and written by the services: the conversation, its all:open entry, the
 * message, a user's receipt of it and their unread counter.
 */
async function compareShapes(
  stack: BenchStack,
  workspaceId: string,
  samples: Record<'seeded' | 'service', { conversationId: string; messageId: string; userId: string }>,
) {
  const ws = `WS#${workspaceId}`;
  const keysOf = ({
    conversationId,
    messageId,
    userId,
  }: {
    conversationId: string;
    messageId: string;
    userId: string;
  }) => ({
    conversation: { pk: `${ws}#CONV#${conversationId}`, sk: 'CONV' },
    listEntry: { pk: `${ws}#CV#all:open`, sk: conversationId },
    message: { pk: `${ws}#CONV#${conversationId}`, sk: `MSG#${messageId}` },
    receipt: { pk: `${ws}#MSG#${messageId}`, sk: `READ#${userId}` },
    unreadCounter: { pk: `${ws}#UNREAD#${userId}`, sk: `CONV#${conversationId}` },
  });
  const mask = (value: unknown) =>
    typeof value === 'string'
      ? value
          .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, '<time>')
          .replace(/\b[a-z]+_[0-9A-HJKMNP-TV-Z]{26}\b/g, '<id>')
      : typeof value;
  const describe = async (keys: Record<string, { pk: string; sk: string }>) => {
    const out: Record<string, { attributes: string[]; keys: Record<string, unknown> } | null> = {};
    for (const [kind, key] of Object.entries(keys)) {
      const { Item } = await stack.docClient.send(
        new GetCommand({ TableName: stack.tableName, Key: key, ConsistentRead: true }),
      );
      out[kind] = Item
        ? {
            attributes: Object.keys(Item).sort(),
            keys: Object.fromEntries(
              Object.entries(Item)
                .filter(([name]) => /^(pk|sk|gsi\dpk|gsi\dsk)$/.test(name))
                .map(([name, value]) => [name, mask(value)]),
            ),
          }
        : null;
    }
    return out;
  };
  const seeded = await describe(keysOf(samples.seeded));
  const service = await describe(keysOf(samples.service));
  const kinds = Object.fromEntries(
    Object.keys(seeded).map((kind) => {
      const a = seeded[kind];
      const b = service[kind];
      const match = Boolean(a && b) && JSON.stringify(a) === JSON.stringify(b);
      return [kind, match ? { match } : { match, seeded: a, service: b }];
    }),
  );
  return { matchesService: Object.values(kinds).every((kind) => kind.match), kinds };
}

const countBy = (values: string[]) =>
  values.reduce<Record<string, number>>((acc, value) => ({ ...acc, [value]: (acc[value] ?? 0) + 1 }), {});

main().then(
  () => setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref(),
  (error: unknown) => {
    process.stderr.write(
      `[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 2000).unref();
  },
);
