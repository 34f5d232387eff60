import { QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { CoreDeps } from '../shared/deps';

/**
 * Event counters, kept by atomic ADD from the stream (never by reading events).
 *
 * Access pattern: one item per workspace, party and day (in the workspace's time zone)
 *   pk `WS#<ws>#COUNTERS#<yyyy>#<party>` (party `*`: every actor together; else a user id, or `system`)
 *   sk `<yyyy-mm-dd>`
 * holding a number per event type (`n:<type>`) and the party's performance figures (`p:<figure>`, and
 * `p:firstResponseSeconds`, the list of first-response times that day). One partition per year and
 * party: 90 days are one Query (two across a new year), and a day is one item whatever the number of
 * types, so a read never outgrows a page. Attributes named at run time are outside what ElectroDB
 * models (and ADD works on top-level attributes only), so these items are written and read here with
 * the document client.
 */
export const allParties = '*';

const counterKey = (workspaceId: string, year: string, party: string) => `WS#${workspaceId}#COUNTERS#${year}#${party}`;

const countPrefix = 'n:';
const figurePrefix = 'p:';
const firstResponsesAttribute = 'p:firstResponseSeconds';

/** What one event adds to one party's day. */
export interface CounterChange {
  party: string;
  /** The workspace's day (`YYYY-MM-DD`, in its time zone) it changes. */
  day: string;
  /** Event counts by type. */
  counts: Record<string, number>;
  /** Performance figures by name (`wonValue:EUR` in minor units...). */
  figures: Record<string, number>;
  firstResponseSeconds: number[];
}

/** The transaction item that applies a change to its party's day (created by the first ADD). */
export function counterUpdate(table: string, workspaceId: string, change: CounterChange) {
  const { day } = change;
  const names: Record<string, string> = { '#e': '__edb_e__' };
  const values: Record<string, unknown> = { ':e': 'counter' };
  const adds: string[] = [];
  const add = (attribute: string, amount: number) => {
    const index = adds.length;
    names[`#a${index}`] = attribute;
    values[`:a${index}`] = amount;
    adds.push(`#a${index} :a${index}`);
  };
  for (const [type, amount] of Object.entries(change.counts)) add(countPrefix + type, amount);
  for (const [figure, amount] of Object.entries(change.figures)) add(figurePrefix + figure, amount);
  // The identity attribute tells counter items apart on the stream, like ElectroDB's own items.
  const sets = ['#e = :e'];
  if (change.firstResponseSeconds.length > 0) {
    names['#fr'] = firstResponsesAttribute;
    values[':fr'] = change.firstResponseSeconds;
    values[':none'] = [];
    sets.push('#fr = list_append(if_not_exists(#fr, :none), :fr)');
  }
  return {
    Update: {
      TableName: table,
      Key: { pk: counterKey(workspaceId, day.slice(0, 4), change.party), sk: day },
      UpdateExpression: `SET ${sets.join(', ')}${adds.length > 0 ? ` ADD ${adds.join(', ')}` : ''}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
  };
}

/** Writes the items of one TransactWriteItems built from raw items (counters) and ElectroDB params. */
export const sendTransaction = (deps: CoreDeps, items: Record<string, unknown>[]) =>
  deps.db.client.send(new TransactWriteCommand({ TransactItems: items as never }));

/** One party's day as stored. */
export interface CounterDay {
  day: string;
  counts: Record<string, number>;
  figures: Record<string, number>;
  firstResponseSeconds: number[];
}

/**
 * One party's days from `fromDay` to `toDay` (inclusive, `YYYY-MM-DD`), oldest first: one Query per
 * calendar year the range touches (a year's days of one party always fit a page, but pages are followed).
 */
export async function readCounterDays(
  deps: CoreDeps,
  workspaceId: string,
  party: string,
  fromDay: string,
  toDay: string,
): Promise<CounterDay[]> {
  const years: string[] = [];
  for (let year = Number(fromDay.slice(0, 4)); year <= Number(toDay.slice(0, 4)); year++) years.push(String(year));
  const pages = await Promise.all(
    years.map(async (year) => {
      const items: Record<string, unknown>[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await deps.db.client.send(
          new QueryCommand({
            TableName: deps.db.table,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
            ExpressionAttributeValues: { ':pk': counterKey(workspaceId, year, party), ':from': fromDay, ':to': toDay },
            ExclusiveStartKey: startKey,
          }),
        );
        items.push(...((page.Items ?? []) as Record<string, unknown>[]));
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      return items;
    }),
  );
  return pages.flat().map(toCounterDay);
}

function toCounterDay(item: Record<string, unknown>): CounterDay {
  const day: CounterDay = { day: item.sk as string, counts: {}, figures: {}, firstResponseSeconds: [] };
  for (const [attribute, value] of Object.entries(item)) {
    if (attribute === firstResponsesAttribute) day.firstResponseSeconds = (value as number[]).map(Number);
    else if (attribute.startsWith(countPrefix)) day.counts[attribute.slice(countPrefix.length)] = Number(value);
    else if (attribute.startsWith(figurePrefix)) day.figures[attribute.slice(figurePrefix.length)] = Number(value);
  }
  return day;
}
