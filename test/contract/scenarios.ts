import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { companyMergeSettings } from '../../domain/companies/company-merge.service';
import { anchoredMoveSettings } from '../../domain/anchors/anchored-records';
import { commitJob, findJob } from '../../domain/jobs/job-record';
import { appendToFeed, positionKey } from '../../events/feed';
import type { EventRecord } from '../../events/event-log';
import { createJob, jobFileKey, newJobId } from '../../domain/jobs/jobs.service';
import { stageRemovalSettings } from '../../domain/pipelines/pipelines.service';
import { tagLibrarySettings } from '../../domain/tags/tag-library.service';
import type { OperationId } from '../../functions/http/routes';
import type { ApiResponse, TestStack } from '../support/test-stack';
import type { TestStreams } from '../support/test-streams';
import { attachmentsScenarios } from './scenarios/attachments';
import { callsScenarios } from './scenarios/calls';
import { conversationsScenarios } from './scenarios/conversations';
import { inboxScenarios } from './scenarios/inbox';
import { jobsScenarios } from './scenarios/jobs';
import { importsScenarios } from './scenarios/imports';
import { channelsScenarios } from './scenarios/channels';
import { deliveriesScenarios } from './scenarios/deliveries';
import { segmentsScenarios } from './scenarios/segments';
import { assignmentRulesScenarios } from './scenarios/assignment-rules';
import { leadsScenarios } from './scenarios/leads';
import { webhooksScenarios } from './scenarios/webhooks';
import { qualifyScenarios } from './scenarios/qualify';
import { botScenarios } from './scenarios/bot';

/* eslint-disable @typescript-eslint/no-explicit-any -- records read back from the API */

export interface Actor {
  user: { id: string };
  token: string;
}

export interface Workspace {
  owner: Actor;
  admin: Actor;
  member: Actor;
}

/** One request: `token` defaults to the owner's; `null` sends none. */
export interface Req {
  token?: string | null;
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Case {
  status: number;
  why: string;
  build: (ctx: Ctx) => Promise<Req>;
  /** Runs after the request, e.g. to restore a setting the case lowered. */
  after?: () => void;
}

export interface Scenario {
  /** A request that succeeds, on fresh records. */
  ok: (ctx: Ctx) => Promise<Req>;
  /** The route's own refusals and other answers (403, 409, 422, 202, ...). */
  cases?: Case[];
  /** An invalid request (400), when the generic ones do not apply. */
  invalid?: (ctx: Ctx) => Promise<Req>;
  /** The request another workspace's owner would send (their own references), when not the success request with their token. */
  foreign?: (ctx: Ctx) => Promise<Req>;
}

export const unknownIds = {
  contactId: 'ct_00000000000000000000000000',
  channelId: 'ch_00000000000000000000000000',
  companyId: 'co_00000000000000000000000000',
  dealId: 'dl_00000000000000000000000000',
  noteId: 'note_00000000000000000000000000',
  taskId: 'task_00000000000000000000000000',
  pipelineId: 'pl_00000000000000000000000000',
  stageId: 'st_00000000000000000000000000',
  userId: 'usr_00000000000000000000000000',
  conversationId: 'cv_00000000000000000000000000',
  messageId: 'msg_00000000000000000000000000',
  callId: 'call_00000000000000000000000000',
  attachmentId: 'att_00000000000000000000000000',
  jobId: 'job_00000000000000000000000000',
  participantId: 'usr_00000000000000000000000000',
  tokenId: 'tok_00000000000000000000000000',
  connectionId: 'chc_00000000000000000000000000',
  segmentId: 'seg_00000000000000000000000000',
  productId: 'prd_00000000000000000000000000',
  ruleId: 'asr_00000000000000000000000000',
  webhookId: 'whk_00000000000000000000000000',
  deliveryId: 'evt_00000000000000000000000000',
  key: 'no_such_field_or_tag',
  tag: 'no-such-tag',
} as const satisfies Record<string, string>;

/** Builds fresh records through the API, as the owner; owned by the admin where records have owners. */
export class Ctx {
  constructor(
    readonly stack: TestStack,
    readonly ws: Workspace,
    readonly other: Workspace,
    private readonly streams?: TestStreams,
  ) {}

  /** Waits until the stream consumers have handled every change so far (e.g. the unread totals). */
  async settled(): Promise<void> {
    await this.streams?.drain();
  }

  async call(
    method: string,
    path: string,
    body?: unknown,
    token = this.ws.owner.token,
  ): Promise<ApiResponse> {
    const res = await this.stack.api(method, path, { token, ...(body === undefined ? {} : { body }) });
    if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status}: ${JSON.stringify(res.body)}`);
    return res;
  }

  unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

  private phones = 0;
  /** A phone number no other contact of the run holds. */
  phone = (prefix = '+1 202 555 ') => `${prefix}${String(1000 + (this.phones++ % 9000)).padStart(4, '0')}`;

  async tagged(tag: string): Promise<any> {
    const contact = await this.contact();
    return (await this.call('POST', `/v1/contacts/${contact.id}/tags`, { tags: [tag] })).body;
  }

  async contact(extra: Record<string, unknown> = {}): Promise<any> {
    const email = `${this.unique('c')}@example.com`;
    return (
      await this.call('POST', '/v1/contacts', {
        name: 'Ada Contact',
        ownerId: this.ws.admin.user.id,
        channels: [{ kind: 'email', value: email }],
        ...extra,
      })
    ).body;
  }

  /** A new email conversation with a new contact (owned by the admin), in the pool. */
  async conversation(extra: Record<string, unknown> = {}): Promise<any> {
    const contact = await this.contact();
    return (
      await this.call('POST', '/v1/conversations', {
        kind: 'contact',
        contactId: contact.id,
        channel: 'email',
        ...extra,
      })
    ).body;
  }

  async company(extra: Record<string, unknown> = {}): Promise<any> {
    return (
      await this.call('POST', '/v1/companies', {
        name: this.unique('Co'),
        ownerId: this.ws.admin.user.id,
        ...extra,
      })
    ).body;
  }

  async deal(extra: Record<string, unknown> = {}): Promise<any> {
    return (
      await this.call('POST', '/v1/deals', {
        title: 'Deal',
        value: 1000,
        currency: 'EUR',
        ownerId: this.ws.admin.user.id,
        ...extra,
      })
    ).body;
  }

  async note(contactId?: string): Promise<any> {
    const anchor = { kind: 'contact', id: contactId ?? (await this.contact()).id };
    return (await this.call('POST', '/v1/notes', { anchor, markdown: 'A *note*' }, this.ws.admin.token)).body;
  }

  async task(extra: Record<string, unknown> = {}): Promise<any> {
    return (
      await this.call('POST', '/v1/tasks', {
        title: 'Call back',
        assigneeId: this.ws.admin.user.id,
        ...extra,
      })
    ).body;
  }

  async pipeline(): Promise<any> {
    return (
      await this.call('POST', '/v1/pipelines', {
        name: this.unique('Pipe'),
        stages: [
          { name: 'New' },
          { name: 'Talking' },
          { name: 'Won', kind: 'won' },
          { name: 'Lost', kind: 'lost' },
        ],
      })
    ).body;
  }

  async tag(): Promise<any> {
    return (await this.call('POST', '/v1/tags', { name: this.unique('tag') })).body;
  }

  async customField(): Promise<any> {
    const key = `f_${randomUUID().slice(0, 8).replace(/-/g, '')}`;
    return (
      await this.call('POST', '/v1/custom-fields', {
        entityType: 'contact',
        key,
        label: 'Field',
        type: 'text',
      })
    ).body;
  }

  /**
   * A job, written with the domain's `createJob` (no route creates one yet; nothing runs it here): started
   * by `actor` (the owner by default), `failed` if asked, with a downloadable `contacts.csv` if asked.
   */
  async job(options: { actor?: Actor; status?: 'queued' | 'succeeded' | 'failed'; file?: boolean } = {}): Promise<{ id: string }> {
    const actor = options.actor ?? this.ws.owner;
    const me = (await this.call('GET', '/v1/me', undefined, actor.token)).body;
    const caller = { workspaceId: me.workspace.id as string, userId: me.user.id as string, role: me.user.role };
    const jobId = newJobId(this.stack.deps);
    const files: Record<string, string> = {};
    if (options.file) {
      files['contacts.csv'] = jobFileKey('exports', caller.workspaceId, jobId, 'contacts.csv');
      await this.stack.blobs.put(files['contacts.csv'], 'Name,Email\nAda Lovelace,ada@example.com\n', 'text/csv');
    }
    const job = await createJob(this.stack.deps, caller, { kind: 'export_contacts', input: { format: 'csv' }, files, jobId });
    const at = this.stack.deps.clock.nowIso();
    const ended = {
      succeeded: { status: 'succeeded', startedAt: at, result: { rows: 1 }, progress: { processed: 1, total: 1, ratePerSecond: 1, estimatedSecondsLeft: 0 } },
      failed: { status: 'failed', startedAt: at, error: { code: 'retries_exhausted', message: 'S3 was unreachable' } },
    } as const;
    if (options.status === 'succeeded' || options.status === 'failed') {
      // Through the jobs' one write, so the item is what a real ending leaves (no active-jobs index keys).
      const before = (await findJob(this.stack.deps, caller.workspaceId, jobId, true))!;
      await commitJob(this.stack.deps, before, { ...before, ...ended[options.status], finishedAt: at, version: before.version + 1 });
    }
    return job;
  }

  async user(role: 'admin' | 'member' = 'member'): Promise<any> {
    return (
      await this.call('POST', '/v1/users', {
        name: 'New Person',
        email: `${this.unique('u')}@example.com`,
        role,
      })
    ).body;
  }
}

const scalarChunks = 'node_modules/@scalar/api-reference/dist/browser/chunks';

const today = () => new Date().toISOString().slice(0, 10);

/** Lowers a bounded-work setting for one request, so a small fixture leaves work for a second. */
const lowered = <T extends Record<string, number>>(settings: T, key: keyof T) => {
  const before = settings[key] as number;
  return {
    lower: () => {
      (settings as Record<string, number>)[key as string] = 1;
    },
    restore: () => {
      (settings as Record<string, number>)[key as string] = before;
    },
  };
};

/** A pipeline one of whose stages is half removed (a 202 left deals to move), and that stage. */
async function removingStage(ctx: Ctx) {
  const pipeline = await ctx.pipeline();
  const stageId = pipeline.stages[1].id as string;
  await ctx.deal({ pipelineId: pipeline.id, stageId });
  await ctx.deal({ pipelineId: pipeline.id, stageId });
  const before = stageRemovalSettings.dealsPerRequest;
  stageRemovalSettings.dealsPerRequest = 1;
  try {
    const res = await ctx.stack.api('DELETE', `/v1/pipelines/${pipeline.id}/stages/${stageId}`, {
      token: ctx.ws.owner.token,
      query: { moveDealsTo: pipeline.stages[0].id },
    });
    if (res.status !== 202) throw new Error(`expected the removal to stop half way, got ${res.status}`);
  } finally {
    stageRemovalSettings.dealsPerRequest = before;
  }
  return { pipeline, stageId };
}

/** A tag half way through a rename or delete (a 202 left contacts to move). */
async function busyTag(ctx: Ctx, how: 'rename' | 'delete') {
  const tag = await ctx.tag();
  await ctx.tagged(tag.name);
  await ctx.tagged(tag.name);
  const before = tagLibrarySettings.contactsPerRequest;
  tagLibrarySettings.contactsPerRequest = 1;
  try {
    const res =
      how === 'rename'
        ? await ctx.stack.api('PATCH', `/v1/tags/${tag.ref}`, {
            token: ctx.ws.owner.token,
            body: { name: ctx.unique('next') },
          })
        : await ctx.stack.api('DELETE', `/v1/tags/${tag.ref}`, { token: ctx.ws.owner.token });
    if (res.status !== 202) throw new Error(`expected the ${how} to stop half way, got ${res.status}`);
  } finally {
    tagLibrarySettings.contactsPerRequest = before;
  }
  return tag;
}

const mergeBatch = lowered(anchoredMoveSettings, 'recordsPerRequest');
const companyBatch = lowered(companyMergeSettings, 'recordsPerRequest');
const stageBatch = lowered(stageRemovalSettings, 'dealsPerRequest');
const tagBatch = lowered(tagLibrarySettings, 'contactsPerRequest');

/**
 * Every operation of the route table: a request that succeeds, and the cases that produce the route's
 * own refusals and other answers. A route without an entry fails the contract test.
 */
const coreScenarios = {
  getOpenApi: { ok: async () => ({ path: '/openapi.json', token: null }) },
  getDocs: { ok: async () => ({ path: '/docs', token: null }) },
  getDocsAsset: { ok: async () => ({ path: '/docs/assets/standalone.esm.js', token: null }) },
  getDocsChunk: {
    ok: async () => ({
      path: `/docs/assets/chunks/${readdirSync(scalarChunks).find((name) => name.endsWith('.js'))}`,
      token: null,
    }),
  },

  getMe: { ok: async () => ({ path: '/v1/me' }) },
  getWorkspace: { ok: async () => ({ path: '/v1/workspace' }) },
  updateWorkspace: {
    ok: async () => ({ path: '/v1/workspace', body: { timeZone: 'Europe/Berlin' } }),
    cases: [
      {
        status: 403,
        why: 'a member',
        build: async (ctx) => ({ path: '/v1/workspace', body: { name: 'X' }, token: ctx.ws.member.token }),
      },
    ],
  },

  listUsers: { ok: async () => ({ path: '/v1/users', query: { limit: '2' } }) },
  addUser: {
    ok: async (ctx) => ({
      path: '/v1/users',
      body: { name: 'Nia New', email: `${ctx.unique('n')}@example.com`, role: 'member' },
    }),
    cases: [
      {
        status: 403,
        why: 'a member adds',
        build: async (ctx) => ({
          path: '/v1/users',
          body: { name: 'N', email: `${ctx.unique('m')}@example.com` },
          token: ctx.ws.member.token,
        }),
      },
      {
        status: 409,
        why: 'an email already in use',
        build: async (ctx) => {
          const email = `${ctx.unique('dup')}@example.com`;
          await ctx.call('POST', '/v1/users', { name: 'First', email });
          return { path: '/v1/users', body: { name: 'Second', email } };
        },
      },
    ],
  },
  getUser: { ok: async (ctx) => ({ path: `/v1/users/${ctx.ws.member.user.id}` }) },
  updateUser: {
    ok: async (ctx) => ({ path: `/v1/users/${(await ctx.user()).id}`, body: { name: 'Renamed' } }),
    cases: [
      {
        status: 403,
        why: 'a member renames another',
        build: async (ctx) => ({
          path: `/v1/users/${ctx.ws.admin.user.id}`,
          body: { name: 'X' },
          token: ctx.ws.member.token,
        }),
      },
      {
        status: 409,
        why: 'the last owner steps down',
        build: async (ctx) => ({ path: `/v1/users/${ctx.ws.owner.user.id}`, body: { role: 'member' } }),
      },
    ],
  },

  listTokens: {
    ok: async () => ({ path: '/v1/tokens', query: { limit: '1' } }),
    cases: [
      {
        status: 403,
        why: "a member lists another's",
        build: async (ctx) => ({
          path: '/v1/tokens',
          query: { userId: ctx.ws.admin.user.id },
          token: ctx.ws.member.token,
        }),
      },
    ],
  },
  createToken: {
    ok: async () => ({ path: '/v1/tokens', body: { name: 'CI' } }),
    cases: [
      {
        status: 409,
        why: 'a deactivated user',
        build: async (ctx) => {
          const user = await ctx.user();
          await ctx.call('PATCH', `/v1/users/${user.id}`, { status: 'deactivated' });
          return { path: '/v1/tokens', body: { userId: user.id } };
        },
      },
      {
        status: 422,
        why: 'an unknown user',
        build: async () => ({ path: '/v1/tokens', body: { userId: unknownIds.userId } }),
      },
      {
        status: 403,
        why: 'a member mints for another',
        build: async (ctx) => ({
          path: '/v1/tokens',
          body: { userId: ctx.ws.admin.user.id },
          token: ctx.ws.member.token,
        }),
      },
    ],
  },
  revokeToken: {
    ok: async (ctx) => ({
      path: `/v1/tokens/${(await ctx.call('POST', '/v1/tokens', { name: 'gone' })).body.id}`,
    }),
    cases: [
      {
        status: 403,
        why: "an admin revokes an owner's",
        build: async (ctx) => ({
          path: `/v1/tokens/${(await ctx.call('POST', '/v1/tokens', { name: 'owner spare' })).body.id}`,
          token: ctx.ws.admin.token,
        }),
      },
    ],
  },

  listCustomFields: { ok: async () => ({ path: '/v1/custom-fields', query: { entityType: 'contact' } }) },
  createCustomField: {
    ok: async () => ({
      path: '/v1/custom-fields',
      body: {
        entityType: 'deal',
        key: `k_${randomUUID().slice(0, 8).replace(/-/g, '')}`,
        label: 'Source',
        type: 'select',
        options: [{ value: 'web', label: 'Web' }],
      },
    }),
    cases: [
      {
        status: 403,
        why: 'a member',
        build: async (ctx) => ({
          path: '/v1/custom-fields',
          body: { entityType: 'deal', key: 'by_member', label: 'X', type: 'text' },
          token: ctx.ws.member.token,
        }),
      },
      {
        status: 409,
        why: 'a key in use',
        build: async (ctx) => ({
          path: '/v1/custom-fields',
          body: { entityType: 'contact', key: (await ctx.customField()).key, label: 'Again', type: 'text' },
        }),
      },
    ],
  },
  updateCustomField: {
    ok: async (ctx) => ({
      path: `/v1/custom-fields/contact/${(await ctx.customField()).key}`,
      body: { label: 'Renamed' },
    }),
    cases: [
      {
        status: 403,
        why: 'a member',
        build: async (ctx) => ({
          path: `/v1/custom-fields/contact/${(await ctx.customField()).key}`,
          body: { label: 'X' },
          token: ctx.ws.member.token,
        }),
      },
      {
        status: 409,
        why: 'a type change',
        build: async (ctx) => ({
          path: `/v1/custom-fields/contact/${(await ctx.customField()).key}`,
          body: { type: 'number' },
        }),
      },
    ],
  },

  listEvents: {
    ok: async (ctx) => ({
      path: '/v1/events',
      query: { entityType: 'contact', entityId: (await ctx.contact()).id },
    }),
    cases: [
      {
        status: 404,
        why: 'an unknown contact',
        build: async () => ({
          path: '/v1/events',
          query: { entityType: 'contact', entityId: unknownIds.contactId },
        }),
      },
      {
        status: 403,
        why: "a member asks for another user's token's events",
        build: async (ctx) => ({
          path: '/v1/events',
          query: {
            entityType: 'token',
            entityId: (await ctx.call('POST', '/v1/tokens', { userId: ctx.ws.admin.user.id, name: 'ops' })).body.id,
          },
          token: ctx.ws.member.token,
        }),
      },
      {
        status: 404,
        why: 'an unknown deal: every kind alike',
        build: async () => ({ path: '/v1/events', query: { entityType: 'deal', entityId: unknownIds.dealId } }),
      },
    ],
  },

  readEventFeed: {
    ok: async () => ({ path: '/v1/events/feed', query: { limit: '5', types: 'contact.*' } }),
    cases: [
      { status: 403, why: 'a member', build: async (ctx) => ({ path: '/v1/events/feed', token: ctx.ws.member.token }) },
      {
        status: 422,
        why: 'a position whose next events expired',
        build: async (ctx) => {
          // Three entries appended, the second deleted as its TTL would: reading after the first finds a gap.
          const workspaceId = (await ctx.call('GET', '/v1/workspace')).body.id as string;
          const { deps } = ctx.stack;
          const head = (await deps.db.entities.feedHead.get({ workspaceId }).go({ consistent: true })).data?.position ?? 0;
          const event = (n: number): EventRecord => ({
            eventId: `evt_contractgap${ctx.unique('e')}${n}`,
            workspaceId,
            type: 'workspace.updated',
            entityType: 'workspace',
            entityId: workspaceId,
            actorUserId: 'system',
            payload: { changes: {} },
            createdAt: deps.clock.nowIso(),
          });
          await appendToFeed(deps, [event(1), event(2), event(3)]);
          await deps.db.entities.feedEntry.delete({ workspaceId, positionKey: positionKey(head + 2) }).go();
          return { path: '/v1/events/feed', query: { after: String(head + 1) } };
        },
      },
    ],
  },

  listContacts: { ok: async () => ({ path: '/v1/contacts', query: { limit: '2', archived: 'false' } }) },
  searchContacts: { ok: async () => ({ path: '/v1/contacts/search', query: { q: 'ada' } }) },
  lookupContact: {
    ok: async (ctx) => ({
      path: '/v1/contacts/lookup',
      query: { kind: 'email', value: (await ctx.contact()).channels[0].value },
    }),
    cases: [
      {
        status: 404,
        why: 'no contact holds the value',
        build: async () => ({
          path: '/v1/contacts/lookup',
          query: { kind: 'email', value: 'nobody@nowhere.example' },
        }),
      },
    ],
  },
  createContact: {
    ok: async (ctx) => ({
      path: '/v1/contacts',
      body: {
        name: 'Grace Hopper',
        jobTitle: 'Admiral',
        channels: [
          { kind: 'email', value: `${ctx.unique('g')}@navy.example` },
          { kind: 'phone', value: ctx.phone() },
        ],
      },
    }),
    cases: [
      {
        status: 403,
        why: 'a member gives it to another',
        build: async (ctx) => ({
          path: '/v1/contacts',
          body: { name: 'X', ownerId: ctx.ws.admin.user.id },
          token: ctx.ws.member.token,
        }),
      },
      {
        status: 422,
        why: 'an unknown company',
        build: async () => ({ path: '/v1/contacts', body: { name: 'X', companyId: unknownIds.companyId } }),
      },
      {
        status: 409,
        why: 'an email another contact holds',
        build: async (ctx) => ({
          path: '/v1/contacts',
          body: { name: 'X', channels: [{ kind: 'email', value: (await ctx.contact()).channels[0].value }] },
        }),
      },
    ],
  },
  getContact: { ok: async (ctx) => ({ path: `/v1/contacts/${(await ctx.contact()).id}` }) },
  updateContact: {
    ok: async (ctx) => ({
      path: `/v1/contacts/${(await ctx.contact()).id}`,
      body: { city: 'Lisbon', jobTitle: null },
    }),
    cases: [
      {
        status: 422,
        why: 'an unknown company',
        build: async (ctx) => ({
          path: `/v1/contacts/${(await ctx.contact()).id}`,
          body: { companyId: unknownIds.companyId },
        }),
      },
      {
        status: 403,
        why: "a member changes another's",
        build: async (ctx) => ({
          path: `/v1/contacts/${(await ctx.contact()).id}`,
          body: { city: 'X' },
          token: ctx.ws.member.token,
        }),
      },
      {
        status: 409,
        why: 'an email another contact holds',
        build: async (ctx) => ({
          path: `/v1/contacts/${(await ctx.contact()).id}`,
          body: { channels: [{ kind: 'email', value: (await ctx.contact()).channels[0].value }] },
        }),
      },
    ],
  },
  addContactChannel: {
    ok: async (ctx) => ({
      path: `/v1/contacts/${(await ctx.contact()).id}/channels`,
      body: { kind: 'phone', value: ctx.phone('020 7946 '), defaultCountry: 'GB' },
    }),
    cases: [
      {
        status: 403,
        why: "a member changes another's",
        build: async (ctx) => ({
          path: `/v1/contacts/${(await ctx.contact()).id}/channels`,
          body: { kind: 'telegram', value: '12345' },
          token: ctx.ws.member.token,
        }),
      },
      {
        status: 409,
        why: 'a value another contact holds',
        build: async (ctx) => ({
          path: `/v1/contacts/${(await ctx.contact()).id}/channels`,
          body: { kind: 'email', value: (await ctx.contact()).channels[0].value },
        }),
      },
      {
        status: 422,
        why: 'an 11th channel',
        build: async (ctx) => {
          const channels = Array.from({ length: 10 }, (_, i) => ({
            kind: 'email',
            value: `${ctx.unique(`e${i}`)}@example.com`,
          }));
          return {
            path: `/v1/contacts/${(await ctx.contact({ channels })).id}/channels`,
            body: { kind: 'telegram', value: '777' },
          };
        },
      },
    ],
  },
  removeContactChannel: {
    ok: async (ctx) => {
      const contact = await ctx.contact();
      return { path: `/v1/contacts/${contact.id}/channels/${contact.channels[0].id}` };
    },
    cases: [
      {
        status: 403,
        why: "a member changes another's",
        build: async (ctx) => {
          const contact = await ctx.contact();
          return {
            path: `/v1/contacts/${contact.id}/channels/${contact.channels[0].id}`,
            token: ctx.ws.member.token,
          };
        },
      },
    ],
  },
  archiveContact: {
    ok: async (ctx) => ({ path: `/v1/contacts/${(await ctx.contact()).id}/archive` }),
    cases: [
      {
        status: 403,
        why: "a member archives another's",
        build: async (ctx) => ({
          path: `/v1/contacts/${(await ctx.contact()).id}/archive`,
          token: ctx.ws.member.token,
        }),
      },
    ],
  },
  unarchiveContact: {
    ok: async (ctx) => {
      const contact = await ctx.contact();
      await ctx.call('POST', `/v1/contacts/${contact.id}/archive`);
      return { path: `/v1/contacts/${contact.id}/unarchive` };
    },
    cases: [
      {
        status: 409,
        why: 'a merged contact',
        build: async (ctx) => {
          const source = await ctx.contact();
          await ctx.call('POST', `/v1/contacts/${(await ctx.contact()).id}/merge`, {
            sourceContactIds: [source.id],
          });
          return { path: `/v1/contacts/${source.id}/unarchive` };
        },
      },
      {
        status: 403,
        why: "a member unarchives another's",
        build: async (ctx) => {
          const contact = await ctx.contact();
          await ctx.call('POST', `/v1/contacts/${contact.id}/archive`);
          return { path: `/v1/contacts/${contact.id}/unarchive`, token: ctx.ws.member.token };
        },
      },
    ],
  },
  suppressContact: {
    ok: async (ctx) => ({
      path: `/v1/contacts/${(await ctx.contact()).id}/suppress`,
      body: { reason: 'Asked to stop' },
    }),
    cases: [
      {
        status: 403,
        why: 'a member',
        build: async (ctx) => ({
          path: `/v1/contacts/${(await ctx.contact()).id}/suppress`,
          body: {},
          token: ctx.ws.member.token,
        }),
      },
    ],
  },
  unsuppressContact: {
    ok: async (ctx) => {
      const contact = await ctx.contact();
      await ctx.call('POST', `/v1/contacts/${contact.id}/suppress`, {});
      return { path: `/v1/contacts/${contact.id}/unsuppress` };
    },
    cases: [
      {
        status: 403,
        why: 'a member',
        build: async (ctx) => ({
          path: `/v1/contacts/${(await ctx.contact()).id}/unsuppress`,
          token: ctx.ws.member.token,
        }),
      },
    ],
  },
  claimContact: {
    ok: async (ctx) => ({
      path: `/v1/contacts/${(await ctx.contact({ ownerId: null })).id}/claim`,
      token: ctx.ws.member.token,
    }),
    cases: [
      {
        status: 409,
        why: "someone else's",
        build: async (ctx) => ({
          path: `/v1/contacts/${(await ctx.contact()).id}/claim`,
          token: ctx.ws.member.token,
        }),
      },
    ],
  },
  releaseContact: {
    ok: async (ctx) => ({ path: `/v1/contacts/${(await ctx.contact()).id}/release` }),
    cases: [
      {
        status: 403,
        why: "a member releases another's",
        build: async (ctx) => ({
          path: `/v1/contacts/${(await ctx.contact()).id}/release`,
          token: ctx.ws.member.token,
        }),
      },
    ],
  },
  assignContactOwner: {
    ok: async (ctx) => ({
      path: `/v1/contacts/${(await ctx.contact()).id}/assign`,
      body: { ownerId: ctx.ws.member.user.id },
    }),
    foreign: async (ctx) => ({
      path: `/v1/contacts/${(await ctx.contact()).id}/assign`,
      body: { ownerId: ctx.other.member.user.id },
      token: ctx.other.owner.token,
    }),
    cases: [
      {
        status: 403,
        why: 'a member assigns',
        build: async (ctx) => ({
          path: `/v1/contacts/${(await ctx.contact({ ownerId: null })).id}/assign`,
          body: { ownerId: ctx.ws.admin.user.id },
          token: ctx.ws.member.token,
        }),
      },
      {
        status: 422,
        why: 'an unknown user',
        build: async (ctx) => ({
          path: `/v1/contacts/${(await ctx.contact()).id}/assign`,
          body: { ownerId: unknownIds.userId },
        }),
      },
    ],
  },
  addContactScore: {
    ok: async (ctx) => ({ path: `/v1/contacts/${(await ctx.contact()).id}/scores`, body: { value: 4 } }),
    cases: [
      {
        status: 403,
        why: "a member scores another's",
        build: async (ctx) => ({
          path: `/v1/contacts/${(await ctx.contact()).id}/scores`,
          body: { value: 1 },
          token: ctx.ws.member.token,
        }),
      },
    ],
  },
  listContactScores: { ok: async (ctx) => ({ path: `/v1/contacts/${(await ctx.contact()).id}/scores` }) },
  setContactQualification: {
    ok: async (ctx) => ({
      path: `/v1/contacts/${(await ctx.contact()).id}/qualification`,
      body: { kind: 'hot_lead', score: 5 },
    }),
    cases: [
      {
        status: 403,
        why: "a member qualifies another's",
        build: async (ctx) => ({
          path: `/v1/contacts/${(await ctx.contact()).id}/qualification`,
          body: { kind: 'cold' },
          token: ctx.ws.member.token,
        }),
      },
    ],
  },
  getContactQualification: {
    ok: async (ctx) => ({ path: `/v1/contacts/${(await ctx.contact()).id}/qualification` }),
  },
  listContactTimeline: {
    ok: async (ctx) => ({
      path: `/v1/contacts/${(await ctx.contact()).id}/timeline`,
      query: { types: 'contact.created' },
    }),
  },
  addContactTags: {
    ok: async (ctx) => ({
      path: `/v1/contacts/${(await ctx.contact()).id}/tags`,
      body: { tags: ['vip', 'Newsletter'] },
    }),
    cases: [
      {
        status: 409,
        why: 'a tag being deleted',
        build: async (ctx) => ({
          path: `/v1/contacts/${(await ctx.contact()).id}/tags`,
          body: { tags: [(await busyTag(ctx, 'delete')).name] },
        }),
      },
      {
        status: 403,
        why: 'a member sets a bot: tag',
        build: async (ctx) => ({
          path: `/v1/contacts/${(await ctx.contact({ ownerId: null })).id}/tags`,
          body: { tags: ['bot:off'] },
          token: ctx.ws.member.token,
        }),
      },
      {
        status: 422,
        why: 'more tags than a contact may carry',
        build: async (ctx) => {
          const contact = await ctx.contact();
          for (let round = 0; round < 3; round++) {
            await ctx
              .call('POST', `/v1/contacts/${contact.id}/tags`, {
                tags: Array.from({ length: 20 }, (_, i) => `t${round}-${i}`),
              })
              .catch(() => undefined);
          }
          return {
            path: `/v1/contacts/${contact.id}/tags`,
            body: { tags: Array.from({ length: 20 }, (_, i) => `more-${i}`) },
          };
        },
      },
    ],
  },
  removeContactTag: {
    ok: async (ctx) => {
      const contact = await ctx.tagged('vip');
      return { path: `/v1/contacts/${contact.id}/tags/vip` };
    },
    cases: [
      {
        status: 403,
        why: 'a member removes a bot: tag',
        build: async (ctx) => ({
          path: `/v1/contacts/${(await ctx.contact({ ownerId: null })).id}/tags/bot:on`,
          token: ctx.ws.member.token,
        }),
      },
    ],
  },
  bulkChangeContacts: {
    ok: async (ctx) => ({
      path: '/v1/contacts/bulk',
      body: {
        action: 'tag',
        contactIds: [(await ctx.contact()).id, (await ctx.contact()).id],
        tags: ['bulk'],
      },
    }),
    cases: [
      {
        status: 409,
        why: 'a tag being deleted',
        build: async (ctx) => ({
          path: '/v1/contacts/bulk',
          body: {
            action: 'tag',
            contactIds: [(await ctx.contact()).id],
            tags: [(await busyTag(ctx, 'delete')).name],
          },
        }),
      },
      {
        status: 422,
        why: 'an unknown owner',
        build: async (ctx) => ({
          path: '/v1/contacts/bulk',
          body: { action: 'assign', contactIds: [(await ctx.contact()).id], ownerId: unknownIds.userId },
        }),
      },
      {
        status: 403,
        why: 'a member assigns',
        build: async (ctx) => ({
          path: '/v1/contacts/bulk',
          body: { action: 'assign', contactIds: [(await ctx.contact()).id], ownerId: ctx.ws.admin.user.id },
          token: ctx.ws.member.token,
        }),
      },
    ],
  },
  mergeContacts: {
    ok: async (ctx) => ({
      path: `/v1/contacts/${(await ctx.contact()).id}/merge`,
      body: { sourceContactIds: [(await ctx.contact()).id] },
    }),
    cases: [
      {
        status: 202,
        why: 'notes left to move',
        build: async (ctx) => {
          const source = await ctx.contact();
          await ctx.note(source.id);
          await ctx.note(source.id);
          mergeBatch.lower();
          return {
            path: `/v1/contacts/${(await ctx.contact()).id}/merge`,
            body: { sourceContactIds: [source.id] },
          };
        },
        after: mergeBatch.restore,
      },
      {
        status: 403,
        why: 'a member',
        build: async (ctx) => ({
          path: `/v1/contacts/${(await ctx.contact()).id}/merge`,
          body: { sourceContactIds: [(await ctx.contact()).id] },
          token: ctx.ws.member.token,
        }),
      },
      {
        status: 422,
        why: 'an unknown source',
        build: async (ctx) => ({
          path: `/v1/contacts/${(await ctx.contact()).id}/merge`,
          body: { sourceContactIds: [unknownIds.contactId] },
        }),
      },
      {
        status: 409,
        why: 'a source already merged into another',
        build: async (ctx) => {
          const source = await ctx.contact();
          await ctx.call('POST', `/v1/contacts/${(await ctx.contact()).id}/merge`, {
            sourceContactIds: [source.id],
          });
          return {
            path: `/v1/contacts/${(await ctx.contact()).id}/merge`,
            body: { sourceContactIds: [source.id] },
          };
        },
      },
    ],
  },

  listPins: { ok: async () => ({ path: '/v1/pins' }) },
  setPin: {
    ok: async (ctx) => ({ path: '/v1/pins/1', body: { contactId: (await ctx.contact()).id } }),
    cases: [
      {
        status: 422,
        why: 'an unknown contact',
        build: async () => ({ path: '/v1/pins/2', body: { contactId: unknownIds.contactId } }),
      },
      {
        status: 404,
        why: 'an empty slot segment',
        build: async (ctx) => ({ path: '/v1/pins/', body: { contactId: (await ctx.contact()).id } }),
      },
    ],
    invalid: async () => ({ path: '/v1/pins/9', body: { contactId: unknownIds.contactId } }),
  },
  clearPin: {
    ok: async (ctx) => {
      await ctx.call('PUT', '/v1/pins/3', { contactId: (await ctx.contact()).id }, ctx.ws.admin.token);
      return { path: '/v1/pins/3', token: ctx.ws.admin.token };
    },
    cases: [{ status: 404, why: 'a dot segment for the slot', build: async () => ({ path: '/v1/pins/..' }) }],
    invalid: async () => ({ path: '/v1/pins/0' }),
  },

  listCompanies: { ok: async () => ({ path: '/v1/companies', query: { archived: 'false' } }) },
  createCompany: {
    ok: async (ctx) => ({
      path: '/v1/companies',
      body: { name: ctx.unique('Initech'), domains: [`${ctx.unique('initech')}.example`], size: '51-200' },
    }),
    cases: [
      {
        status: 403,
        why: 'a member gives it to another',
        build: async (ctx) => ({
          path: '/v1/companies',
          body: { name: ctx.unique('Theirs'), ownerId: ctx.ws.admin.user.id },
          token: ctx.ws.member.token,
        }),
      },
      {
        status: 422,
        why: 'an unknown owner',
        build: async (ctx) => ({
          path: '/v1/companies',
          body: { name: ctx.unique('Orphan'), ownerId: unknownIds.userId },
        }),
      },
      {
        status: 409,
        why: 'a domain another company holds',
        build: async (ctx) => ({
          path: '/v1/companies',
          body: {
            name: 'Clone',
            domains: [(await ctx.company({ domains: [`${ctx.unique('d')}.example`] })).domains[0]],
          },
        }),
      },
    ],
  },
  getCompany: { ok: async (ctx) => ({ path: `/v1/companies/${(await ctx.company()).id}` }) },
  updateCompany: {
    ok: async (ctx) => ({
      path: `/v1/companies/${(await ctx.company()).id}`,
      body: { industry: 'Software' },
    }),
    cases: [
      {
        status: 409,
        why: 'a domain another company holds',
        build: async (ctx) => ({
          path: `/v1/companies/${(await ctx.company()).id}`,
          body: { domains: [(await ctx.company({ domains: [`${ctx.unique('d')}.example`] })).domains[0]] },
        }),
      },
      {
        status: 422,
        why: 'an unknown owner',
        build: async (ctx) => ({
          path: `/v1/companies/${(await ctx.company()).id}`,
          body: { ownerId: unknownIds.userId },
        }),
      },
      {
        status: 403,
        why: "a member changes another's",
        build: async (ctx) => ({
          path: `/v1/companies/${(await ctx.company()).id}`,
          body: { industry: 'X' },
          token: ctx.ws.member.token,
        }),
      },
    ],
  },
  archiveCompany: {
    ok: async (ctx) => ({ path: `/v1/companies/${(await ctx.company()).id}/archive` }),
    cases: [
      {
        status: 403,
        why: "a member archives another's",
        build: async (ctx) => ({
          path: `/v1/companies/${(await ctx.company()).id}/archive`,
          token: ctx.ws.member.token,
        }),
      },
    ],
  },
  unarchiveCompany: {
    ok: async (ctx) => {
      const company = await ctx.company();
      await ctx.call('POST', `/v1/companies/${company.id}/archive`);
      return { path: `/v1/companies/${company.id}/unarchive` };
    },
    cases: [
      {
        status: 409,
        why: 'a merged company',
        build: async (ctx) => {
          const source = await ctx.company();
          await ctx.call('POST', `/v1/companies/${(await ctx.company()).id}/merge`, {
            sourceCompanyIds: [source.id],
          });
          return { path: `/v1/companies/${source.id}/unarchive` };
        },
      },
      {
        status: 403,
        why: "a member unarchives another's",
        build: async (ctx) => {
          const company = await ctx.company();
          await ctx.call('POST', `/v1/companies/${company.id}/archive`);
          return { path: `/v1/companies/${company.id}/unarchive`, token: ctx.ws.member.token };
        },
      },
    ],
  },
  mergeCompanies: {
    ok: async (ctx) => ({
      path: `/v1/companies/${(await ctx.company()).id}/merge`,
      body: { sourceCompanyIds: [(await ctx.company()).id] },
    }),
    cases: [
      {
        status: 202,
        why: 'contacts left to move',
        build: async (ctx) => {
          const source = await ctx.company();
          await ctx.contact({ companyId: source.id });
          await ctx.contact({ companyId: source.id });
          companyBatch.lower();
          return {
            path: `/v1/companies/${(await ctx.company()).id}/merge`,
            body: { sourceCompanyIds: [source.id] },
          };
        },
        after: companyBatch.restore,
      },
      {
        status: 403,
        why: 'a member',
        build: async (ctx) => ({
          path: `/v1/companies/${(await ctx.company()).id}/merge`,
          body: { sourceCompanyIds: [(await ctx.company()).id] },
          token: ctx.ws.member.token,
        }),
      },
      {
        status: 422,
        why: 'an unknown source',
        build: async (ctx) => ({
          path: `/v1/companies/${(await ctx.company()).id}/merge`,
          body: { sourceCompanyIds: [unknownIds.companyId] },
        }),
      },
      {
        status: 409,
        why: 'a source already merged into another',
        build: async (ctx) => {
          const source = await ctx.company();
          await ctx.call('POST', `/v1/companies/${(await ctx.company()).id}/merge`, {
            sourceCompanyIds: [source.id],
          });
          return {
            path: `/v1/companies/${(await ctx.company()).id}/merge`,
            body: { sourceCompanyIds: [source.id] },
          };
        },
      },
    ],
  },
  listCompanyContacts: {
    ok: async (ctx) => ({ path: `/v1/companies/${(await ctx.company()).id}/contacts` }),
  },

  listNotes: {
    ok: async (ctx) => ({
      path: '/v1/notes',
      query: { anchorKind: 'contact', anchorId: (await ctx.note()).anchor.id },
    }),
    cases: [
      {
        status: 404,
        why: 'an unknown anchor',
        build: async () => ({
          path: '/v1/notes',
          query: { anchorKind: 'contact', anchorId: unknownIds.contactId },
        }),
      },
    ],
  },
  createNote: {
    ok: async (ctx) => ({
      path: '/v1/notes',
      body: {
        anchor: { kind: 'contact', id: (await ctx.contact()).id },
        markdown: '# Call\nWants a **demo**',
      },
    }),
    cases: [
      {
        status: 422,
        why: 'an unknown anchor',
        build: async () => ({
          path: '/v1/notes',
          body: { anchor: { kind: 'deal', id: unknownIds.dealId }, markdown: 'x' },
        }),
      },
    ],
  },
  getNote: { ok: async (ctx) => ({ path: `/v1/notes/${(await ctx.note()).id}` }) },
  updateNote: {
    ok: async (ctx) => ({ path: `/v1/notes/${(await ctx.note()).id}`, body: { markdown: 'Edited' } }),
    cases: [
      {
        status: 403,
        why: "a member edits another's",
        build: async (ctx) => ({
          path: `/v1/notes/${(await ctx.note()).id}`,
          body: { markdown: 'X' },
          token: ctx.ws.member.token,
        }),
      },
    ],
  },
  deleteNote: {
    ok: async (ctx) => ({ path: `/v1/notes/${(await ctx.note()).id}` }),
    cases: [
      {
        status: 403,
        why: "a member deletes another's",
        build: async (ctx) => ({ path: `/v1/notes/${(await ctx.note()).id}`, token: ctx.ws.member.token }),
      },
    ],
  },
  listNoteHistory: { ok: async (ctx) => ({ path: `/v1/notes/${(await ctx.note()).id}/history` }) },

  listAnchorTasks: {
    ok: async (ctx) => ({
      path: '/v1/tasks',
      query: { anchorKind: 'contact', anchorId: (await ctx.contact()).id },
    }),
    cases: [
      {
        status: 404,
        why: 'an unknown anchor',
        build: async () => ({
          path: '/v1/tasks',
          query: { anchorKind: 'deal', anchorId: unknownIds.dealId },
        }),
      },
    ],
  },
  createTask: {
    ok: async (ctx) => ({
      path: '/v1/tasks',
      body: {
        title: 'Send the quote',
        dueAt: '2030-01-01T09:00:00Z',
        priority: 'high',
        anchor: { kind: 'contact', id: (await ctx.contact()).id },
      },
    }),
    cases: [
      {
        status: 403,
        why: 'a member assigns another',
        build: async (ctx) => ({
          path: '/v1/tasks',
          body: { title: 'X', assigneeId: ctx.ws.admin.user.id },
          token: ctx.ws.member.token,
        }),
      },
      {
        status: 422,
        why: 'an unknown anchor',
        build: async () => ({
          path: '/v1/tasks',
          body: { title: 'X', anchor: { kind: 'contact', id: unknownIds.contactId } },
        }),
      },
    ],
  },
  listMyTasks: { ok: async () => ({ path: '/v1/tasks/mine' }) },
  listPoolTasks: { ok: async () => ({ path: '/v1/tasks/pool' }) },
  listOverdueTasks: { ok: async () => ({ path: '/v1/tasks/overdue' }) },
  listDueTasks: {
    ok: async () => ({
      path: '/v1/tasks/due',
      query: { from: '2030-01-01T00:00:00Z', to: '2030-01-02T00:00:00Z' },
    }),
  },
  getTask: { ok: async (ctx) => ({ path: `/v1/tasks/${(await ctx.task()).id}` }) },
  updateTask: {
    ok: async (ctx) => ({
      path: `/v1/tasks/${(await ctx.task()).id}`,
      body: { priority: 'urgent', description: null },
    }),
    cases: [
      {
        status: 422,
        why: 'an unknown anchor',
        build: async (ctx) => ({
          path: `/v1/tasks/${(await ctx.task()).id}`,
          body: { anchor: { kind: 'deal', id: unknownIds.dealId } },
        }),
      },
      {
        status: 403,
        why: "a member changes another's",
        build: async (ctx) => ({
          path: `/v1/tasks/${(await ctx.task()).id}`,
          body: { title: 'X' },
          token: ctx.ws.member.token,
        }),
      },
    ],
  },
  claimTask: {
    ok: async (ctx) => ({
      path: `/v1/tasks/${(await ctx.task({ assigneeId: null })).id}/claim`,
      token: ctx.ws.member.token,
    }),
    cases: [
      {
        status: 409,
        why: "someone else's",
        build: async (ctx) => ({
          path: `/v1/tasks/${(await ctx.task()).id}/claim`,
          token: ctx.ws.member.token,
        }),
      },
    ],
  },
  assignTask: {
    ok: async (ctx) => ({
      path: `/v1/tasks/${(await ctx.task()).id}/assign`,
      body: { assigneeId: ctx.ws.member.user.id },
    }),
    cases: [
      {
        status: 409,
        why: 'a member takes a done task',
        build: async (ctx) => {
          const task = await ctx.task({ assigneeId: null });
          await ctx.call('POST', `/v1/tasks/${task.id}/complete`);
          return {
            path: `/v1/tasks/${task.id}/assign`,
            body: { assigneeId: ctx.ws.member.user.id },
            token: ctx.ws.member.token,
          };
        },
      },
      {
        status: 403,
        why: 'a member assigns another',
        build: async (ctx) => ({
          path: `/v1/tasks/${(await ctx.task({ assigneeId: null })).id}/assign`,
          body: { assigneeId: ctx.ws.admin.user.id },
          token: ctx.ws.member.token,
        }),
      },
      {
        status: 422,
        why: 'an unknown user',
        build: async (ctx) => ({
          path: `/v1/tasks/${(await ctx.task()).id}/assign`,
          body: { assigneeId: unknownIds.userId },
        }),
      },
    ],
  },
  completeTask: {
    ok: async (ctx) => ({ path: `/v1/tasks/${(await ctx.task()).id}/complete` }),
    cases: [
      {
        status: 403,
        why: "a member completes another's",
        build: async (ctx) => ({
          path: `/v1/tasks/${(await ctx.task()).id}/complete`,
          token: ctx.ws.member.token,
        }),
      },
    ],
  },
  reopenTask: {
    ok: async (ctx) => {
      const task = await ctx.task();
      await ctx.call('POST', `/v1/tasks/${task.id}/complete`);
      return { path: `/v1/tasks/${task.id}/reopen` };
    },
    cases: [
      {
        status: 403,
        why: "a member reopens another's",
        build: async (ctx) => {
          const task = await ctx.task();
          await ctx.call('POST', `/v1/tasks/${task.id}/complete`);
          return { path: `/v1/tasks/${task.id}/reopen`, token: ctx.ws.member.token };
        },
      },
    ],
  },

  listPipelines: { ok: async () => ({ path: '/v1/pipelines' }) },
  createPipeline: {
    ok: async (ctx) => ({
      path: '/v1/pipelines',
      body: {
        name: ctx.unique('Renewals'),
        stages: [{ name: 'Due' }, { name: 'Renewed', kind: 'won' }, { name: 'Churned', kind: 'lost' }],
      },
    }),
    cases: [
      {
        status: 403,
        why: 'a member',
        build: async (ctx) => ({
          path: '/v1/pipelines',
          body: { name: ctx.unique('M') },
          token: ctx.ws.member.token,
        }),
      },
    ],
  },
  getPipeline: { ok: async (ctx) => ({ path: `/v1/pipelines/${(await ctx.pipeline()).id}` }) },
  renamePipeline: {
    ok: async (ctx) => ({
      path: `/v1/pipelines/${(await ctx.pipeline()).id}`,
      body: { name: ctx.unique('Renamed') },
    }),
    cases: [
      {
        status: 403,
        why: 'a member',
        build: async (ctx) => ({
          path: `/v1/pipelines/${(await ctx.pipeline()).id}`,
          body: { name: 'X' },
          token: ctx.ws.member.token,
        }),
      },
    ],
  },
  addStage: {
    ok: async (ctx) => ({
      path: `/v1/pipelines/${(await ctx.pipeline()).id}/stages`,
      body: { name: 'Proposal' },
    }),
    cases: [
      {
        status: 422,
        why: 'a pipeline with the most stages',
        build: async (ctx) => {
          const stages = [
            ...Array.from({ length: 28 }, (_, i) => ({ name: `S${i}` })),
            { name: 'Won', kind: 'won' },
            { name: 'Lost', kind: 'lost' },
          ];
          const full = (await ctx.call('POST', '/v1/pipelines', { name: ctx.unique('Full'), stages })).body;
          return { path: `/v1/pipelines/${full.id}/stages`, body: { name: 'One more' } };
        },
      },
      {
        status: 403,
        why: 'a member',
        build: async (ctx) => ({
          path: `/v1/pipelines/${(await ctx.pipeline()).id}/stages`,
          body: { name: 'X' },
          token: ctx.ws.member.token,
        }),
      },
    ],
  },
  reorderStages: {
    ok: async (ctx) => {
      const pipeline = await ctx.pipeline();
      const ids = pipeline.stages.map((stage: { id: string }) => stage.id);
      return {
        path: `/v1/pipelines/${pipeline.id}/stages`,
        body: { stageIds: [ids[1], ids[0], ...ids.slice(2)] },
      };
    },
    cases: [
      {
        status: 422,
        why: 'an unknown stage',
        build: async (ctx) => {
          const pipeline = await ctx.pipeline();
          const ids = pipeline.stages.map((stage: { id: string }) => stage.id);
          return {
            path: `/v1/pipelines/${pipeline.id}/stages`,
            body: { stageIds: [...ids.slice(1), unknownIds.stageId] },
          };
        },
      },
      {
        status: 403,
        why: 'a member',
        build: async (ctx) => {
          const pipeline = await ctx.pipeline();
          return {
            path: `/v1/pipelines/${pipeline.id}/stages`,
            body: { stageIds: pipeline.stages.map((stage: { id: string }) => stage.id) },
            token: ctx.ws.member.token,
          };
        },
      },
    ],
  },
  renameStage: {
    ok: async (ctx) => {
      const pipeline = await ctx.pipeline();
      return {
        path: `/v1/pipelines/${pipeline.id}/stages/${pipeline.stages[0].id}`,
        body: { name: 'Fresh' },
      };
    },
    cases: [
      {
        status: 403,
        why: 'a member',
        build: async (ctx) => {
          const pipeline = await ctx.pipeline();
          return {
            path: `/v1/pipelines/${pipeline.id}/stages/${pipeline.stages[0].id}`,
            body: { name: 'X' },
            token: ctx.ws.member.token,
          };
        },
      },
    ],
  },
  removeStage: {
    ok: async (ctx) => {
      const pipeline = await ctx.pipeline();
      return { path: `/v1/pipelines/${pipeline.id}/stages/${pipeline.stages[1].id}` };
    },
    cases: [
      {
        status: 422,
        why: 'an unknown stage to move deals to',
        build: async (ctx) => {
          const pipeline = await ctx.pipeline();
          await ctx.deal({ pipelineId: pipeline.id, stageId: pipeline.stages[1].id });
          return {
            path: `/v1/pipelines/${pipeline.id}/stages/${pipeline.stages[1].id}`,
            query: { moveDealsTo: unknownIds.stageId },
          };
        },
      },
      {
        status: 202,
        why: 'deals left to move',
        build: async (ctx) => {
          const pipeline = await ctx.pipeline();
          const stage = pipeline.stages[1].id;
          await ctx.deal({ pipelineId: pipeline.id, stageId: stage });
          await ctx.deal({ pipelineId: pipeline.id, stageId: stage });
          stageBatch.lower();
          return {
            path: `/v1/pipelines/${pipeline.id}/stages/${stage}`,
            query: { moveDealsTo: pipeline.stages[0].id },
          };
        },
        after: stageBatch.restore,
      },
      {
        status: 403,
        why: 'a member',
        build: async (ctx) => {
          const pipeline = await ctx.pipeline();
          return {
            path: `/v1/pipelines/${pipeline.id}/stages/${pipeline.stages[1].id}`,
            token: ctx.ws.member.token,
          };
        },
      },
      {
        status: 409,
        why: 'deals in it and nowhere to move them',
        build: async (ctx) => {
          const pipeline = await ctx.pipeline();
          await ctx.deal({ pipelineId: pipeline.id, stageId: pipeline.stages[1].id });
          return { path: `/v1/pipelines/${pipeline.id}/stages/${pipeline.stages[1].id}` };
        },
      },
    ],
  },
  getBoard: {
    ok: async (ctx) => ({ path: `/v1/pipelines/${(await ctx.pipeline()).id}/board`, query: { limit: '2' } }),
  },
  listStageDeals: {
    ok: async (ctx) => {
      const pipeline = await ctx.pipeline();
      return { path: `/v1/pipelines/${pipeline.id}/stages/${pipeline.stages[0].id}/deals` };
    },
  },

  listDeals: {
    ok: async () => ({ path: '/v1/deals', query: { status: 'open', sort: 'value', order: 'desc' } }),
  },
  createDeal: {
    ok: async (ctx) => ({
      path: '/v1/deals',
      body: {
        title: 'Annual plan',
        value: 1200000,
        currency: 'USD',
        expectedCloseDate: '2030-03-31',
        contactId: (await ctx.contact()).id,
      },
    }),
    cases: [
      {
        status: 409,
        why: 'a stage being removed',
        build: async (ctx) => {
          const { pipeline, stageId } = await removingStage(ctx);
          return { path: '/v1/deals', body: { title: 'X', pipelineId: pipeline.id, stageId } };
        },
      },
      {
        status: 403,
        why: 'a member gives it to another',
        build: async (ctx) => ({
          path: '/v1/deals',
          body: { title: 'X', ownerId: ctx.ws.admin.user.id },
          token: ctx.ws.member.token,
        }),
      },
      {
        status: 422,
        why: 'an unknown contact',
        build: async () => ({ path: '/v1/deals', body: { title: 'X', contactId: unknownIds.contactId } }),
      },
    ],
  },
  getDeal: { ok: async (ctx) => ({ path: `/v1/deals/${(await ctx.deal()).id}` }) },
  updateDeal: {
    ok: async (ctx) => ({
      path: `/v1/deals/${(await ctx.deal()).id}`,
      body: { value: 2500, expectedCloseDate: null },
    }),
    cases: [
      {
        status: 403,
        why: "a member changes another's",
        build: async (ctx) => ({
          path: `/v1/deals/${(await ctx.deal()).id}`,
          body: { title: 'X' },
          token: ctx.ws.member.token,
        }),
      },
      {
        status: 422,
        why: 'an unknown company',
        build: async (ctx) => ({
          path: `/v1/deals/${(await ctx.deal()).id}`,
          body: { companyId: unknownIds.companyId },
        }),
      },
    ],
  },
  changeDealStage: {
    ok: async (ctx) => ({
      path: `/v1/deals/${(await ctx.deal()).id}/stage`,
      body: { stageId: 'st_negotiating' },
    }),
    cases: [
      {
        status: 409,
        why: 'a stage being removed',
        build: async (ctx) => {
          const { pipeline, stageId } = await removingStage(ctx);
          return {
            path: `/v1/deals/${(await ctx.deal({ pipelineId: pipeline.id, stageId: pipeline.stages[0].id })).id}/stage`,
            body: { stageId },
          };
        },
      },
      {
        status: 403,
        why: "a member moves another's",
        build: async (ctx) => ({
          path: `/v1/deals/${(await ctx.deal()).id}/stage`,
          body: { stageId: 'st_negotiating' },
          token: ctx.ws.member.token,
        }),
      },
      {
        status: 422,
        why: 'an unknown stage',
        build: async (ctx) => ({
          path: `/v1/deals/${(await ctx.deal()).id}/stage`,
          body: { stageId: unknownIds.stageId },
        }),
      },
    ],
  },
  markDealWon: {
    ok: async (ctx) => ({ path: `/v1/deals/${(await ctx.deal()).id}/won` }),
    cases: [
      {
        status: 403,
        why: "a member wins another's",
        build: async (ctx) => ({
          path: `/v1/deals/${(await ctx.deal()).id}/won`,
          token: ctx.ws.member.token,
        }),
      },
    ],
  },
  markDealLost: {
    ok: async (ctx) => ({ path: `/v1/deals/${(await ctx.deal()).id}/lost`, body: { reason: 'Budget' } }),
    cases: [
      {
        status: 403,
        why: "a member loses another's",
        build: async (ctx) => ({
          path: `/v1/deals/${(await ctx.deal()).id}/lost`,
          body: {},
          token: ctx.ws.member.token,
        }),
      },
    ],
  },
  reopenDeal: {
    ok: async (ctx) => {
      const deal = await ctx.deal();
      await ctx.call('POST', `/v1/deals/${deal.id}/won`);
      return { path: `/v1/deals/${deal.id}/reopen`, body: { stageId: 'st_negotiating' } };
    },
    cases: [
      {
        status: 409,
        why: 'a stage being removed',
        build: async (ctx) => {
          const { pipeline, stageId } = await removingStage(ctx);
          const deal = await ctx.deal({ pipelineId: pipeline.id, stageId: pipeline.stages[0].id });
          await ctx.call('POST', `/v1/deals/${deal.id}/won`);
          return { path: `/v1/deals/${deal.id}/reopen`, body: { stageId } };
        },
      },
      {
        status: 403,
        why: "a member reopens another's",
        build: async (ctx) => {
          const deal = await ctx.deal();
          await ctx.call('POST', `/v1/deals/${deal.id}/won`);
          return { path: `/v1/deals/${deal.id}/reopen`, body: {}, token: ctx.ws.member.token };
        },
      },
      {
        status: 422,
        why: 'an unknown stage',
        build: async (ctx) => {
          const deal = await ctx.deal();
          await ctx.call('POST', `/v1/deals/${deal.id}/won`);
          return { path: `/v1/deals/${deal.id}/reopen`, body: { stageId: unknownIds.stageId } };
        },
      },
    ],
  },

  listTags: { ok: async () => ({ path: '/v1/tags', query: { q: 'v' } }) },
  createTag: {
    ok: async (ctx) => ({
      path: '/v1/tags',
      body: { name: ctx.unique('Partner'), color: '#00aa88', description: 'Resellers' },
    }),
    cases: [
      {
        status: 403,
        why: 'a member creates a bot: tag',
        build: async (ctx) => ({ path: '/v1/tags', body: { name: 'bot:quiet' }, token: ctx.ws.member.token }),
      },
      {
        status: 409,
        why: 'a key in the library',
        build: async (ctx) => ({ path: '/v1/tags', body: { name: (await ctx.tag()).name.toUpperCase() } }),
      },
      {
        status: 422,
        why: '`reserved_tag`: a `bot:` tag other than `bot:on` / `bot:off`',
        build: async () => ({ path: '/v1/tags', body: { name: 'bot:quiet' } }),
      },
    ],
  },
  getTag: {
    ok: async (ctx) => ({ path: `/v1/tags/${(await ctx.tag()).ref}` }),
    invalid: async () => ({ path: `/v1/tags/${'x'.repeat(201)}` }),
  },
  updateTag: {
    ok: async (ctx) => ({ path: `/v1/tags/${(await ctx.tag()).ref}`, body: { color: '#123456' } }),
    cases: [
      {
        status: 202,
        why: 'contacts left to rename',
        build: async (ctx) => {
          const tag = await ctx.tag();
          await ctx.tagged(tag.name);
          await ctx.tagged(tag.name);
          tagBatch.lower();
          return { path: `/v1/tags/${tag.ref}`, body: { name: ctx.unique('renamed') } };
        },
        after: tagBatch.restore,
      },
      {
        status: 422,
        why: '`reserved_tag`: a rename to a `bot:` tag other than `bot:on` / `bot:off`',
        build: async (ctx) => ({ path: `/v1/tags/${(await ctx.tag()).ref}`, body: { name: 'bot:muted' } }),
      },
      {
        status: 403,
        why: 'a member',
        build: async (ctx) => ({
          path: `/v1/tags/${(await ctx.tag()).ref}`,
          body: { color: '#000000' },
          token: ctx.ws.member.token,
        }),
      },
      {
        status: 409,
        why: 'a name another tag has',
        build: async (ctx) => ({
          path: `/v1/tags/${(await ctx.tag()).ref}`,
          body: { name: (await ctx.tag()).name },
        }),
      },
    ],
  },
  deleteTag: {
    ok: async (ctx) => ({ path: `/v1/tags/${(await ctx.tag()).ref}` }),
    cases: [
      {
        status: 409,
        why: 'a tag being renamed',
        build: async (ctx) => ({ path: `/v1/tags/${(await busyTag(ctx, 'rename')).ref}` }),
      },
      {
        status: 202,
        why: 'contacts left to untag',
        build: async (ctx) => {
          const tag = await ctx.tag();
          await ctx.tagged(tag.name);
          await ctx.tagged(tag.name);
          tagBatch.lower();
          return { path: `/v1/tags/${tag.ref}` };
        },
        after: tagBatch.restore,
      },
      {
        status: 403,
        why: 'a member',
        build: async (ctx) => ({ path: `/v1/tags/${(await ctx.tag()).ref}`, token: ctx.ws.member.token }),
      },
    ],
    invalid: async () => ({ path: `/v1/tags/${'x'.repeat(201)}` }),
  },
  getEventCounters: {
    ok: async () => ({ path: '/v1/metrics/counters', query: { to: today(), granularity: 'week' } }),
    invalid: async () => ({ path: '/v1/metrics/counters', query: { granularity: 'hour' } }),
    cases: [
      {
        status: 404,
        why: 'an unknown user',
        build: async () => ({ path: '/v1/metrics/counters', query: { userId: unknownIds.userId } }),
      },
    ],
  },
  getPerformance: {
    ok: async () => ({ path: '/v1/metrics/performance', query: { to: today() } }),
    invalid: async () => ({ path: '/v1/metrics/performance', query: { from: 'yesterday' } }),
    cases: [
      {
        status: 404,
        why: 'an unknown user',
        build: async () => ({ path: '/v1/metrics/performance', query: { userId: unknownIds.userId } }),
      },
    ],
  },
} satisfies Partial<Record<OperationId, Scenario>>;

/** Every operation's scenario: the core's, and one file per later route group (`scenarios/<group>.ts`). */
export const scenarios = {
  ...coreScenarios,
  ...conversationsScenarios,
  ...inboxScenarios,
  ...callsScenarios,
  ...attachmentsScenarios,
  ...jobsScenarios,
  ...importsScenarios,
  ...channelsScenarios,
  ...deliveriesScenarios,
  ...segmentsScenarios,
  ...assignmentRulesScenarios,
  ...leadsScenarios,
  ...webhooksScenarios,
  ...qualifyScenarios,
  ...botScenarios,
} as Record<OperationId, Scenario>;
