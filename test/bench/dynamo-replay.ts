/**
 * Capture and replay of the DynamoDB commands a handler sends, for the "raw DynamoDB work" floors of the
 * benchmarks (inbox.ts, channels.ts): `captureCommands` records each command's input and when it
 * started and ended, `waves` groups them into the round trips the handler made (a command started
 * before the previous ones ended shares their wave), `replay` sends one again raw on the document client
 * the handlers use, `replayWaves` sends them wave by wave (each wave's commands at once), and
 * `rewriteTransaction` moves a captured TransactWriteItems to fresh keys without its conditions.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { notCounted } from '../support/dynamo-call-counter';
import type { BenchStack } from './harness';

export type Captured = {
  name: string;
  input: Record<string, unknown>;
  /** process.hrtime.bigint() in ms when the command went out, and when its answer was back. */
  startMs?: number;
  endMs?: number;
};

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

/** Records the input (native values: the document client marshals later) of every command the handlers' client sends while `on`. */
export function captureCommands(client: DynamoDBClient) {
  const state = { on: false, commands: [] as Captured[] };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      // The stream consumer's own writes (the unread totals) are not the handler's: left out.
      if (!state.on || notCounted.getStore()) return next(args);
      const input = structuredClone(args.input) as Record<string, unknown>;
      const captured: Captured = { name: context.commandName ?? 'unknown', input, startMs: nowMs() };
      state.commands.push(captured);
      try {
        return await next(args);
      } finally {
        captured.endMs = nowMs();
      }
    },
    { step: 'serialize', priority: 'high', name: 'benchCapture' },
  );
  return {
    async during<T>(fn: () => Promise<T>): Promise<{ result: T; commands: Captured[] }> {
      state.commands = [];
      state.on = true;
      try {
        return { result: await fn(), commands: state.commands };
      } finally {
        state.on = false;
      }
    },
  };
}

/**
 * The round trips of captured commands: sequential waves. In start order, a command started before every
 * command of the current wave had ended (strictly: before the latest end so far) joins that wave; one
 * started after all of them ended opens the next.
 */
export function waves(commands: Captured[]): Captured[][] {
  const sorted = [...commands].sort((a, b) => (a.startMs ?? 0) - (b.startMs ?? 0));
  const result: Captured[][] = [];
  let latestEnd = -Infinity;
  for (const command of sorted) {
    const start = command.startMs ?? 0;
    if (result.length === 0 || start >= latestEnd) result.push([command]);
    else result[result.length - 1]!.push(command);
    latestEnd = Math.max(latestEnd, command.endMs ?? start);
  }
  return result;
}

/** The document client's command for each captured command (the capture sees its native-value input). */
const documentCommands = {
  QueryCommand,
  GetItemCommand: GetCommand,
  BatchGetItemCommand: BatchGetCommand,
  TransactWriteItemsCommand: TransactWriteCommand,
} as const;

/** Sends a captured command again, raw, on the document client the handlers use (marshalling and unmarshalling included). */
export function replay(stack: Pick<BenchStack, 'docClient'>, command: Captured) {
  const Command = documentCommands[command.name as keyof typeof documentCommands] as unknown as
    (new (input: unknown) => never) | undefined;
  if (!Command) throw new Error(`No command ${command.name} to replay`);
  return stack.docClient.send(new Command(command.input));
}

/**
 * Replays captured waves: each wave's commands at once, the waves one after another. A
 * TransactWriteItems goes to fresh keys each time (`rewriteTransaction` with `prefix(call)`), so it writes
 * what the handler wrote without meeting its conditions or its own earlier copies.
 */
export function replayWaves(stack: Pick<BenchStack, 'docClient'>, captured: Captured[][], prefix: (call: number) => string) {
  let call = 0;
  return async () => {
    const n = call++;
    for (const wave of captured) {
      await Promise.all(
        wave.map((command) =>
          replay(
            stack,
            command.name === 'TransactWriteItemsCommand'
              ? { name: command.name, input: rewriteTransaction(command.input, prefix(n)) }
              : command,
          ),
        ),
      );
    }
  };
}

/** A captured TransactWriteItems input moved to other keys (`prefix` on every partition key) without conditions. */
export function rewriteTransaction(input: Record<string, unknown>, prefix: string): Record<string, unknown> {
  const keyAttributes = ['pk', 'gsi1pk', 'gsi2pk', 'gsi3pk', 'gsi4pk'];
  const moved = (item: Record<string, unknown>) =>
    Object.fromEntries(
      Object.entries(item).map(([name, value]) => [
        name,
        keyAttributes.includes(name) ? `${prefix}${String(value)}` : name === '__edb_e__' && value === 'unreadCounter' ? 'benchReplay' : value,
      ]),
    );
  const items = (input.TransactItems as Record<string, Record<string, unknown>>[]).flatMap(
    (op): Record<string, unknown>[] => {
      if (op.Put)
        return [
          { Put: { TableName: op.Put.TableName, Item: moved(op.Put.Item as Record<string, unknown>) } },
        ];
      if (op.Delete)
        return [
          {
            Delete: { TableName: op.Delete.TableName, Key: moved(op.Delete.Key as Record<string, unknown>) },
          },
        ];
      if (op.Update) {
        const update = op.Update as {
          TableName: string;
          Key: Record<string, unknown>;
          UpdateExpression: string;
          ExpressionAttributeNames?: Record<string, string>;
          ExpressionAttributeValues?: Record<string, unknown>;
        };
        const used = (placeholder: string) =>
          new RegExp(`${placeholder}(?![\\w])`).test(update.UpdateExpression);
        const names = Object.fromEntries(
          Object.entries(update.ExpressionAttributeNames ?? {}).filter(([placeholder]) => used(placeholder)),
        );
        const values = Object.fromEntries(
          Object.entries(update.ExpressionAttributeValues ?? {})
            .filter(([placeholder]) => used(placeholder))
            .map(([placeholder, value]) => {
              // A key attribute the update sets (an upsert's gsi1pk) moves too.
              const setsKey = Object.entries(names).some(
                ([name, attribute]) =>
                  keyAttributes.includes(attribute) &&
                  update.UpdateExpression.includes(`${name} = ${placeholder}`),
              );
              // The copy is no entity of the app: stream consumers (the unread totals) must not count it.
              if (value === 'unreadCounter') return [placeholder, 'benchReplay'];
              return [placeholder, setsKey ? `${prefix}${String(value)}` : value];
            }),
        );
        return [
          {
            Update: {
              TableName: update.TableName,
              Key: moved(update.Key),
              UpdateExpression: update.UpdateExpression,
              ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
              ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
            },
          },
        ];
      }
      return []; // a ConditionCheck writes nothing
    },
  );
  return { TransactItems: items };
}
