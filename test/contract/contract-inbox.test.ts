import { contractSuite } from './contract-suite';
import { inboxShardGroups } from './contract-shards';

/** The contract of the inbox's routes (conversations, messages, calls, attachments): a shard of its own. */
contractSuite((route) => inboxShardGroups.includes(route.group));
