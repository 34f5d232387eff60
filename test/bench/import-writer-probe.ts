/**
 * `npx tsx test/bench/import-writer-probe.ts [rows] [concurrency] [rounds]` (defaults: 5,000 rows, 4
 * contact transactions in flight, 3 rounds): a throughput probe of the import writer
 * (domain/imports/import-writer.ts), not a budgeted benchmark. On its own DynamoDB Local, each round:
 *
 * 1. `import`: the rows (mostly new people, every 10th a repeat of the one before in another spelling,
 *    every 50th blank) written by `writeImportChunk` into a fresh workspace in chunks of 500, one
 *    chunk after the other, as one job's steps would. Every DynamoDB write it sends is recorded.
 * 2. `raw`: the recorded writes sent again, to the same table under a key prefix, with the plain SDK
 *    client (no ElectroDB, no reads, no domain code) the same way: the same transactions as many at a
 *    time, the same BatchWriteItem requests 8 at a time, with the same conditions (a fresh import's all
 *    hold: they are attribute_not_exists). `rawWithoutConditions`: the same without them.
 *    `rawWithoutOutcomes`: the same without the row-outcome items, i.e. what one item per row costs
 *    (the two run in alternating order). `rawBatchWrite`: every recorded put by BatchWriteItem
 *    instead (25 a request, 8 at once): the floor of writing those items at all.
 * 3. `rerun`: the same rows as a new job: every contact is found unchanged, only row outcomes are put;
 *    and its raw replay.
 *
 * `itemsPerSecond` counts items written (transaction items and batch-written items); `ratioToRaw` is
 * the import's items/s over the raw replay's (the budget: ≥ 0.7). The medians of the rounds
 * are reported with every round. Why 4 in flight: DynamoDB Local applies one transaction at a time, and
 * with 16 waiting some time out on its lock ("This request will succeed in actual DynamoDB API").
 */
import {
  BatchWriteItemCommand,
  type AttributeValue,
  TransactWriteItemsCommand,
  type BatchWriteItemCommandInput,
  type TransactWriteItemsCommandInput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { normaliseChannelValue } from '../../domain/contacts/channels';
import type { NormalisedRow } from '../../domain/imports/import-row';
import { addImportCounts, emptyImportCounts, writeImportChunk, type ImportWriteJob } from '../../domain/imports/import-writer';
import { importWriteOptions } from '../../domain/imports/import-writer.schemas';
import { createWorkspace } from '../../domain/workspaces/workspaces.service';
import { benchMeta, progress, reserveStdout, runConcurrent, startBenchStack, startRun, writeReport } from './harness';

const rowCount = Number(process.argv[2] ?? 5_000);
/** Contact transactions in flight (the writer's `concurrency`, and the raw replay's): argv[3], default 4. */
const concurrency = Number(process.argv[3] ?? 4);
/** Rounds of import and replays (argv[4], default 3): the median is reported, the machine's load drifts. */
const roundCount = Number(process.argv[4] ?? 3);
const chunkSize = 500;

function file(): NormalisedRow[] {
  const rows: NormalisedRow[] = [];
  for (let row = 1; row <= rowCount; row += 1) {
    if (row % 50 === 0) {
      rows.push({ kind: 'blank', position: { row, line: row + 1 } });
      continue;
    }
    const n = row % 10 === 0 ? row - 1 : row;
    const emailValue = row % 10 === 0 ? `Person.${n}@Example-Mail.test` : `person.${n}@example-mail.test`;
    const phoneValue = `+33 6 ${String(10_000_000 + n).slice(-8)}`;
    rows.push({
      kind: 'candidate',
      candidate: {
        row,
        line: row + 1,
        name: `Person ${n}`,
        named: true,
        channels: [
          { kind: 'email', value: normaliseChannelValue('email', emailValue).normalized },
          { kind: 'phone', value: normaliseChannelValue('phone', phoneValue).normalized },
        ],
        fields: { city: 'Lyon', jobTitle: row % 10 === 0 ? 'Buyer' : 'Engineer' },
        customFields: {},
        tags: row % 3 === 0 ? ['Trade show'] : [],
        raw: [`Person ${n}`, emailValue, phoneValue],
      },
    });
  }
  return rows;
}

type Recorded = { kind: 'transaction'; input: TransactWriteItemsCommandInput } | { kind: 'batch'; input: BatchWriteItemCommandInput };

async function main() {
  const run = startRun();
  const stdout = reserveStdout();
  const stack = await startBenchStack();
  try {
    const recorded: Recorded[] = [];
    let recording = false;
    stack.rawClient.middlewareStack.add(
      (next, context) => async (args) => {
        if (recording && context.commandName === 'TransactWriteItemsCommand') {
          recorded.push({ kind: 'transaction', input: structuredClone(args.input as TransactWriteItemsCommandInput) });
        } else if (recording && context.commandName === 'BatchWriteItemCommand') {
          recorded.push({ kind: 'batch', input: structuredClone(args.input as BatchWriteItemCommandInput) });
        }
        return next(args);
      },
      { step: 'build', name: 'importProbeRecorder' },
    );

    const itemsOf = (records: Recorded[], keep: (item: Record<string, unknown>) => boolean = () => true) =>
      records.reduce(
        (sum, record) =>
          sum +
          (record.kind === 'transaction'
            ? record.input.TransactItems!.filter((item) => keep(itemOfTransaction(item))).length
            : Object.values(record.input.RequestItems!).flat().filter((request) => keep(request.PutRequest?.Item ?? {})).length),
        0,
      );
    const isOutcome = (item: Record<string, unknown>) => /^(ROW|ERR)#/.test(((item.sk as { S?: string }) ?? {}).S ?? '');
    const all = () => true;
    const notOutcome = (item: Record<string, unknown>) => !isOutcome(item);

    /** DynamoDB Local refuses a transaction that waited too long for its lock (AWS would not): send it again. */
    let lockRetries = 0;
    const sendTransaction = async (input: TransactWriteItemsCommandInput) => {
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await stack.rawClient.send(new TransactWriteItemsCommand(input));
        } catch (error) {
          if (attempt >= 10 || !/waiting for a lock/.test(String((error as Error).message))) throw error;
          lockRetries += 1;
        }
      }
    };
    const batchWrite = async (table: string, requests: WriteRequest[]) => {
      let pending = requests;
      while (pending.length > 0) {
        const result = await stack.rawClient.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
        pending = result.UnprocessedItems?.[table] ?? [];
      }
    };
    // The replays write to the import's own table (a second table of DynamoDB Local takes writes ~2.8x
    // slower: measured), each under a key prefix of its own so nothing collides.
    const table = stack.tableName;
    const replay = async (
      prefix: string,
      records: Recorded[],
      keep: (item: Record<string, unknown>) => boolean,
      conditions = true,
    ) => {
      const transactions = records.flatMap((record) => (record.kind === 'transaction' ? [record.input] : []));
      const batches = records.flatMap((record) => (record.kind === 'batch' ? [record.input] : []));
      const started = performance.now();
      await runConcurrent(transactions.length, concurrency, async (index) => {
        const items = transactions[index]!.TransactItems!.filter((item) => keep(itemOfTransaction(item))).map((item) => retarget(item, table, prefix, conditions));
        if (items.length > 0) await sendTransaction({ TransactItems: items });
      });
      await runConcurrent(batches.length, 8, async (index) => {
        const requests = Object.values(batches[index]!.RequestItems!)
          .flat()
          .filter((request) => keep(request.PutRequest?.Item ?? {}))
          .map((request) => ({ PutRequest: { Item: prefixed(request.PutRequest!.Item!, prefix) } }));
        await batchWrite(table, requests);
      });
      return (performance.now() - started) / 1000;
    };
    const replayAsBatches = async (prefix: string, records: Recorded[]) => {
      const requests: WriteRequest[] = records.flatMap((record) =>
        (record.kind === 'batch'
          ? Object.values(record.input.RequestItems!).flat().map((request) => request.PutRequest!.Item!)
          : record.input.TransactItems!.flatMap((item) => (item.Put ? [item.Put.Item!] : []))
        ).map((item) => ({ PutRequest: { Item: prefixed(item, prefix) } })),
      );
      const started = performance.now();
      const chunks = Array.from({ length: Math.ceil(requests.length / 25) }, (_, index) => requests.slice(index * 25, index * 25 + 25));
      await runConcurrent(chunks.length, 8, async (index) => batchWrite(table, chunks[index]!));
      return (performance.now() - started) / 1000;
    };

    const rows = file();
    const rate = (count: number, seconds: number) => Math.round(count / seconds);
    const rounds = [];
    for (let round = 1; round <= roundCount; round += 1) {
      // Each round imports into a fresh workspace (all its people new), then re-runs the file as a new job.
      const created = await createWorkspace(stack.deps, { name: `Probe ${round}`, ownerName: 'Probe Owner', ownerEmail: `owner${round}@probe.test` });
      const caller = { workspaceId: created.workspace.id, userId: created.owner.id, role: 'owner' as const };
      const importRun = async (jobId: string) => {
        const job: ImportWriteJob = { workspaceId: caller.workspaceId, jobId, caller, options: importWriteOptions.parse({ tags: ['Imported'] }) };
        let total = emptyImportCounts();
        recorded.length = 0;
        recording = true;
        const started = performance.now();
        for (let start = 0; start < rows.length; start += chunkSize) {
          total = addImportCounts(total, await writeImportChunk(stack.deps, job, rows.slice(start, start + chunkSize), { concurrency }));
        }
        const seconds = (performance.now() - started) / 1000;
        recording = false;
        return { seconds, counts: total, written: recorded.slice() };
      };
      progress(`round ${round}: import of ${rowCount} rows in chunks of ${chunkSize}`);
      const first = await importRun(`job_PROBE${round}A`);
      progress(`round ${round}: import ${first.seconds.toFixed(1)} s; raw replays`);
      // The two replays in alternating order, so that a drift of the machine's load favours neither.
      const replays: Record<string, number> = {};
      const order = ['raw', 'rawWithoutOutcomes', 'rawWithoutConditions'] as const;
      for (const name of round % 2 ? order : [...order].reverse()) {
        replays[name] = await replay(`${name}${round}#`, first.written, name === 'rawWithoutOutcomes' ? notOutcome : all, name !== 'rawWithoutConditions');
      }
      replays.rawBatch = await replayAsBatches(`rawBatch${round}#`, first.written);
      progress(`round ${round}: rerun`);
      const second = await importRun(`job_PROBE${round}B`);
      replays.rawRerun = await replay(`rawRerun${round}#`, second.written, all);

      const items = itemsOf(first.written);
      const outcomeItems = itemsOf(first.written, isOutcome);
      const transactions = first.written.filter((record) => record.kind === 'transaction');
      rounds.push({
        import: {
          counts: first.counts,
          seconds: round3(first.seconds),
          rowsPerSecond: rate(rowCount, first.seconds),
          transactions: transactions.length,
          itemsPerTransaction: round3(itemsOf(transactions) / transactions.length),
          items,
          outcomeItems,
          itemsPerSecond: rate(items, first.seconds),
          ratioToRaw: round3(replays.raw! / first.seconds),
        },
        raw: { seconds: round3(replays.raw!), itemsPerSecond: rate(items, replays.raw!) },
        rawWithoutOutcomes: {
          seconds: round3(replays.rawWithoutOutcomes!),
          items: items - outcomeItems,
          itemsPerSecond: rate(items - outcomeItems, replays.rawWithoutOutcomes!),
          outcomeTimeShare: round3(1 - replays.rawWithoutOutcomes! / replays.raw!),
        },
        rawWithoutConditions: { seconds: round3(replays.rawWithoutConditions!), itemsPerSecond: rate(items, replays.rawWithoutConditions!) },
        rawBatchWrite: { seconds: round3(replays.rawBatch!), itemsPerSecond: rate(items, replays.rawBatch!) },
        rerun: {
          counts: second.counts,
          seconds: round3(second.seconds),
          rowsPerSecond: rate(rowCount, second.seconds),
          items: itemsOf(second.written),
          itemsPerSecond: rate(itemsOf(second.written), second.seconds),
          rawSeconds: round3(replays.rawRerun!),
          ratioToRaw: round3(replays.rawRerun! / second.seconds),
        },
      });
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;
    const report = {
      meta: benchMeta(run),
      rows: rowCount,
      chunkSize,
      concurrency,
      rawLockRetries: lockRetries,
      median: {
        importRowsPerSecond: median(rounds.map((r) => r.import.rowsPerSecond)),
        importItemsPerSecond: median(rounds.map((r) => r.import.itemsPerSecond)),
        rawItemsPerSecond: median(rounds.map((r) => r.raw.itemsPerSecond)),
        ratioToRaw: median(rounds.map((r) => r.import.ratioToRaw)),
        ratioToRawWithoutConditions: median(rounds.map((r) => round3(r.rawWithoutConditions.seconds / r.import.seconds))),
        outcomeTimeShare: median(rounds.map((r) => r.rawWithoutOutcomes.outcomeTimeShare)),
        rerunRowsPerSecond: median(rounds.map((r) => r.rerun.rowsPerSecond)),
        rerunRatioToRaw: median(rounds.map((r) => r.rerun.ratioToRaw)),
      },
      rounds,
    };
    writeReport('import-writer-probe', report, stdout);
  } finally {
    await stack.stop();
  }
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;

/** The item a transaction entry writes (its key for a delete or update). */
function itemOfTransaction(item: NonNullable<TransactWriteItemsCommandInput['TransactItems']>[number]): Record<string, unknown> {
  return (item.Put?.Item ?? item.Delete?.Key ?? item.Update?.Key ?? item.ConditionCheck?.Key ?? {}) as Record<string, unknown>;
}

type AttributeMap = Record<string, AttributeValue>;

/** The item with its partition key under `prefix`. */
const prefixed = (item: AttributeMap, prefix: string): AttributeMap => ({ ...item, pk: { S: `${prefix}${item.pk!.S}` } });

/** The transaction entry under `prefix`, with its condition or without. */
function retarget(
  item: NonNullable<TransactWriteItemsCommandInput['TransactItems']>[number],
  table: string,
  prefix: string,
  conditions: boolean,
) {
  const keep = <T extends object>(op: T): T => {
    if (conditions) return op;
    const { ConditionExpression: _c, ExpressionAttributeNames: _n, ExpressionAttributeValues: _v, ...rest } = op as T & {
      ConditionExpression?: string;
      ExpressionAttributeNames?: unknown;
      ExpressionAttributeValues?: unknown;
    };
    return rest as T;
  };
  if (item.Put) return { Put: keep({ ...item.Put, TableName: table, Item: prefixed(item.Put.Item!, prefix) }) };
  if (item.Delete) return { Delete: keep({ ...item.Delete, TableName: table, Key: prefixed(item.Delete.Key!, prefix) }) };
  if (item.Update) return { Update: { ...item.Update, TableName: table, Key: prefixed(item.Update.Key!, prefix) } };
  return { ConditionCheck: { ...item.ConditionCheck!, TableName: table, Key: prefixed(item.ConditionCheck!.Key!, prefix) } };
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
