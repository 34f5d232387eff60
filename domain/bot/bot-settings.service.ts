import { appendEvent, newEvent } from '../../events/event-log';
import { requireManager, type CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { lostRace, stale } from '../shared/errors';
import { writeTransaction } from '../store/transaction';
import { botSettingsInput, type BotSettings, type BotSettingsInput, type BotSettingsValues } from './bot.schemas';

interface BotSettingsItem {
  workspaceId: string;
  settings: BotSettingsValues;
  updatedBy: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** The settings of a workspace that never saved any: the bot off, the default hours and keywords. */
export const defaultBotSettings = (): BotSettingsValues => botSettingsInput.parse({});

async function findSettings(deps: CoreDeps, workspaceId: string, consistent = false) {
  const { data } = await deps.db.entities.botSettings.get({ workspaceId }).go({ consistent });
  return (data as BotSettingsItem | null) ?? undefined;
}

const toSettings = (item: BotSettingsItem | undefined): BotSettings => ({
  // Parsed again: settings saved before a field existed get its default.
  ...botSettingsInput.parse(item?.settings ?? {}),
  version: item?.version ?? 0,
  updatedBy: item?.updatedBy ?? null,
  updatedAt: item?.updatedAt ?? null,
});

/** The workspace's bot settings as the bot applies them (the defaults when none were saved). */
export async function readBotSettings(deps: CoreDeps, workspaceId: string): Promise<BotSettings> {
  return toSettings(await findSettings(deps, workspaceId));
}

/** `GET /v1/bot`: every role reads them. */
export async function getBotSettings(deps: CoreDeps, caller: CallerContext): Promise<BotSettings> {
  return toSettings(await findSettings(deps, caller.workspaceId, true));
}

/**
 * `PUT /v1/bot`: replaces the settings (owner/admin), conditional on the version read (If-Match; 0
 * while the defaults stand), with a `bot.settings_updated` event naming the fields that changed.
 */
export async function putBotSettings(
  deps: CoreDeps,
  caller: CallerContext,
  input: BotSettingsInput,
  expectedVersion?: number,
): Promise<BotSettings> {
  requireManager(caller, 'change the bot settings');
  const next = botSettingsInput.parse(input);
  const item = await findSettings(deps, caller.workspaceId, true);
  const current = toSettings(item);
  if (expectedVersion !== undefined && expectedVersion !== current.version) throw stale();
  const changes = Object.fromEntries(
    (Object.keys(next) as (keyof BotSettingsValues)[])
      .filter((field) => JSON.stringify(next[field]) !== JSON.stringify(current[field]))
      .map((field) => [field, { from: current[field], to: next[field] }]),
  );
  if (item && Object.keys(changes).length === 0) return current;
  const now = deps.clock.nowIso();
  const saved: BotSettingsItem = {
    workspaceId: caller.workspaceId,
    settings: next,
    updatedBy: caller.userId,
    version: current.version + 1,
    createdAt: item?.createdAt ?? now,
    updatedAt: now,
  };
  const event = newEvent(deps, caller, 'bot.settings_updated', { type: 'workspace', id: caller.workspaceId }, { changes });
  await writeTransaction(
    deps.db,
    (tx) => [
      item
        ? tx.botSettings
            .put(saved)
            .where((attr, { eq }) => eq(attr.version, item.version))
            .commit()
        : tx.botSettings.create(saved).commit(),
      appendEvent(tx, event),
    ],
    () => lostRace('The bot settings'),
  );
  return toSettings(saved);
}
