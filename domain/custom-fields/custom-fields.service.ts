import { appendEvent, newEvent } from '../../events/event-log';
import { requireManager, type CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { conflict, invalid, limitExceeded, lostRace, notFound, stale } from '../shared/errors';
import { writeTransaction } from '../store/transaction';
import { maxCustomFieldsPerEntityType, type CustomFieldEntityType, type CustomFieldType } from './custom-field.entity';
import type {
  CreateCustomFieldInput,
  CustomField,
  ListCustomFieldsQuery,
  SelectOption,
  UpdateCustomFieldInput,
} from './custom-fields.schemas';

interface CustomFieldItem {
  workspaceId: string;
  entityType: CustomFieldEntityType;
  key: string;
  label: string;
  type: CustomFieldType;
  options?: SelectOption[];
  required: boolean;
  archived: boolean;
  position: number;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** The guard scope of the slots that cap the definitions of one entity type at 100. */
export const customFieldSlotScope = 'custom-field-slot';

/** The id events about a definition carry: `contact.industry`. */
export const customFieldEventId = (entityType: CustomFieldEntityType, key: string) => `${entityType}.${key}`;

export const toCustomField = (item: CustomFieldItem): CustomField => ({
  entityType: item.entityType,
  key: item.key,
  label: item.label,
  type: item.type,
  options: (item.options ?? []).map(({ value, label }) => ({ value, label })),
  required: item.required,
  archived: item.archived,
  position: item.position,
  version: item.version,
  createdAt: item.createdAt,
  updatedAt: item.updatedAt,
});

/** Every definition of one entity type, in creation order: one Query (paged only past 1 MB). */
async function queryDefinitions(
  deps: Pick<CoreDeps, 'db'>,
  workspaceId: string,
  entityType: CustomFieldEntityType,
  consistent = false,
): Promise<CustomFieldItem[]> {
  const { data } = await deps.db.entities.customField.query
    .byEntityType({ workspaceId, entityType })
    .go({ pages: 'all', consistent });
  return (data as CustomFieldItem[]).sort((a, b) => a.position - b.position);
}

async function readDefinition(
  deps: CoreDeps,
  workspaceId: string,
  entityType: CustomFieldEntityType,
  key: string,
  consistent = false,
): Promise<CustomFieldItem> {
  const { data } = await deps.db.entities.customField.get({ workspaceId, entityType, key }).go({ consistent });
  if (!data) throw notFound('Custom field');
  return data as CustomFieldItem;
}

/**
 * The definitions that contact and deal writes validate their `customFields` against, for
 * `validateCustomFieldValues`: one Query. The active definitions check values; archived ones come
 * along marked `archived: true` only so that values sent for them are ignored rather than refused
 * as unknown keys (filter on `archived` for the active set).
 */
export async function loadCustomFieldDefinitions(
  deps: Pick<CoreDeps, 'db'>,
  workspaceId: string,
  entityType: CustomFieldEntityType,
): Promise<CustomField[]> {
  return (await queryDefinitions(deps, workspaceId, entityType)).map(toCustomField);
}

/** The workspace's definitions of one entity type, in creation order; archived ones only on request. */
export async function listCustomFields(
  deps: CoreDeps,
  caller: CallerContext,
  query: ListCustomFieldsQuery,
): Promise<{ items: CustomField[] }> {
  const items = await queryDefinitions(deps, caller.workspaceId, query.entityType);
  return { items: items.filter((item) => query.includeArchived || !item.archived).map(toCustomField) };
}

/**
 * Defines a custom field (owner/admin). The key is unique per workspace and entity type for good:
 * archived definitions keep theirs, and count towards the 100 an entity type may have.
 */
export async function createCustomField(
  deps: CoreDeps,
  caller: CallerContext,
  input: CreateCustomFieldInput,
): Promise<CustomField> {
  requireManager(caller, 'define custom fields');
  const existing = await queryDefinitions(deps, caller.workspaceId, input.entityType, true);
  if (existing.some((item) => item.key === input.key)) throw duplicateKey(input.entityType, input.key);
  if (existing.length >= maxCustomFieldsPerEntityType) {
    throw limitExceeded(
      'body.entityType',
      `This workspace already has the maximum of ${maxCustomFieldsPerEntityType} ${input.entityType} custom fields (archived ones count too)`,
      maxCustomFieldsPerEntityType,
    );
  }
  const now = deps.clock.nowIso();
  const item: CustomFieldItem = {
    workspaceId: caller.workspaceId,
    entityType: input.entityType,
    key: input.key,
    label: input.label,
    type: input.type,
    ...(input.type === 'select' ? { options: input.options ?? [] } : {}),
    required: input.required,
    archived: false,
    // Definitions are never deleted, so positions run 1..n without gaps; the slot guard below makes
    // two concurrent creates that read the same n collide instead of both passing the cap.
    position: existing.length + 1,
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
  const eventId = customFieldEventId(item.entityType, item.key);
  const event = newEvent(
    deps,
    caller,
    'custom_field.created',
    { type: 'custom_field', id: eventId },
    {
      entityType: item.entityType,
      key: item.key,
      label: item.label,
      type: item.type,
      required: item.required,
      ...(item.options ? { options: item.options.map((option) => option.value) } : {}),
    },
  );
  await writeTransaction(
    deps.db,
    (tx) => [
      tx.customField.create(item).commit(),
      tx.uniqueGuard
        .create({
          workspaceId: caller.workspaceId,
          scope: customFieldSlotScope,
          value: `${item.entityType}#${item.position}`,
          ownerId: eventId,
          createdAt: now,
        })
        .commit(),
      appendEvent(tx, event),
    ],
    // A concurrent create took the slot this one read as free: the request runs again from the read.
    // Each round at least one of the racing creates wins, so a burst of concurrent creates all land.
    (failed) => (failed.includes(0) ? duplicateKey(item.entityType, item.key) : lostRace('The custom fields')),
  );
  return toCustomField(item);
}

/**
 * Changes a definition's label, required flag, select options or archived flag (owner/admin).
 * Its key and type never change. Options can be added, relabelled and reordered, never removed:
 * records may hold any of them, and finding out which would mean reading every record.
 */
export async function updateCustomField(
  deps: CoreDeps,
  caller: CallerContext,
  entityType: CustomFieldEntityType,
  key: string,
  input: UpdateCustomFieldInput,
  expectedVersion?: number,
): Promise<CustomField> {
  requireManager(caller, 'change custom fields');
  const current = await readDefinition(deps, caller.workspaceId, entityType, key, true);
  if (expectedVersion !== undefined && expectedVersion !== current.version) throw stale();
  if (input.type !== undefined && input.type !== current.type) {
    const message = `The type of a custom field cannot change (${key} is ${current.type}): archive it and define a new field with another key`;
    throw conflict('type_immutable', message, {
      fields: [{ field: 'body.type', message: `Stays ${current.type}` }],
    });
  }
  if (input.options !== undefined) {
    if (current.type !== 'select') throw invalid('body.options', 'Only select fields have options');
    const kept = new Set(input.options.map((option) => option.value));
    const removed = (current.options ?? []).filter((option) => !kept.has(option.value));
    if (removed.length > 0) {
      throw conflict(
        'option_removed',
        'Options of a select field cannot be removed: records may hold them. Send every existing option (relabel or reorder them as you like) plus any new ones',
        {
          fields: [
            {
              field: 'body.options',
              message: `Missing existing option values: ${removed.map((option) => JSON.stringify(option.value)).join(', ')}`,
            },
          ],
        },
      );
    }
  }

  const next: CustomFieldItem = {
    ...current,
    label: input.label ?? current.label,
    required: input.required ?? current.required,
    archived: input.archived ?? current.archived,
    ...(input.options !== undefined ? { options: input.options } : {}),
  };
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const field of ['label', 'required', 'archived'] as const) {
    if (next[field] !== current[field]) changes[field] = { from: current[field], to: next[field] };
  }
  const optionsBefore = toCustomField(current).options;
  const optionsAfter = toCustomField(next).options;
  if (JSON.stringify(optionsBefore) !== JSON.stringify(optionsAfter)) {
    changes.options = { from: optionsBefore, to: optionsAfter };
  }
  if (Object.keys(changes).length === 0) return toCustomField(current);

  const now = deps.clock.nowIso();
  const entity = { type: 'custom_field' as const, id: customFieldEventId(entityType, key) };
  const event =
    next.archived && !current.archived
      ? newEvent(deps, caller, 'custom_field.archived', entity, { entityType, key, changes })
      : newEvent(deps, caller, 'custom_field.updated', entity, { entityType, key, changes });
  await writeTransaction(
    deps.db,
    (tx) => [
      tx.customField
        .patch({ workspaceId: caller.workspaceId, entityType, key })
        .set({
          label: next.label,
          required: next.required,
          archived: next.archived,
          ...(changes.options ? { options: next.options } : {}),
          updatedAt: now,
        })
        .add({ version: 1 })
        .where((attr, { eq }) => eq(attr.version, current.version))
        .commit(),
      appendEvent(tx, event),
    ],
    // The version read is gone: the request runs again from the read (412 then, with If-Match).
    () => lostRace('The custom field'),
  );
  return toCustomField({ ...next, version: current.version + 1, updatedAt: now });
}

const duplicateKey = (entityType: CustomFieldEntityType, key: string) =>
  conflict(
    'already_exists',
    `A ${entityType} custom field with the key ${key} already exists in this workspace`,
    {
      fields: [
        {
          field: 'body.key',
          message: 'Already taken for this entity type (archived fields keep their keys)',
        },
      ],
    },
  );
