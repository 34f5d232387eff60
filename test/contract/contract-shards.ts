/** The route groups the contract's second shard (contract-inbox.test.ts) drives; contract.test.ts drives the rest. */
export const inboxShardGroups: readonly string[] = ['inbox', 'calls', 'attachments'];
