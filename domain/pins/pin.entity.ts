/**
 * Seed 001 ContactPin: one of a user's five priority slots, holding one contact. Private to its user.
 * Access patterns:
 * - a user's pins in slot order: pk WS#<workspaceId>#PINS#<userId>, sk SLOT#<n> (one Query, ≤ 5 items)
 * - one slot: the same key (GetItem)
 * A contact is pinned at most once per user: the uniqueGuard `pin:<userId>` / <contactId> holds the
 * slot it sits in (ownerId = the slot number), written in the same transaction as the pin.
 */
export const contactPinSchema = {
  model: { service: 'crm', entity: 'contactPin', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    userId: { type: 'string', required: true, readOnly: true },
    slot: { type: 'number', required: true, readOnly: true },
    contactId: { type: 'string', required: true },
    /** When the contact was pinned; kept when it moves to another slot. */
    pinnedAt: { type: 'string', required: true },
    updatedAt: { type: 'string', required: true },
  },
  indexes: {
    byUser: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'userId'],
        template: 'WS#${workspaceId}#PINS#${userId}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: ['slot'], template: 'SLOT#${slot}', casing: 'none' },
    },
  },
} as const;
