import { createProduct, findProduct, recordAssessments } from '../domain/fit/fit.service';
import { changeStaticMembers, createSegment } from '../domain/segments/segments.service';
import { createToken } from '../domain/auth/tokens.service';
import { createCompany } from '../domain/companies/companies.service';
import { addTags } from '../domain/contacts/contact-tags.service';
import { putBotSettings } from '../domain/bot/bot-settings.service';
import { createContact, suppressContact } from '../domain/contacts/contacts.service';
import { createDeal, markWon } from '../domain/deals/deals.service';
import { createNote } from '../domain/notes/notes.service';
import { createTask } from '../domain/tasks/tasks.service';
import { assignConversation, openConversation, setConversationStatus } from '../domain/inbox/conversations.service';
import { ingestInboundInput, sendMessageInput } from '../domain/inbox/messages.schemas';
import { ingestInbound, sendMessage } from '../domain/inbox/messages.service';
import type { CallerContext } from '../domain/shared/context';
import type { CoreDeps } from '../domain/shared/deps';
import { addUser } from '../domain/users/users.service';
import { createWorkspace } from '../domain/workspaces/workspaces.service';

export interface DemoCredentials {
  workspaceId: string;
  users: { role: 'owner' | 'admin' | 'member'; userId: string; email: string; token: string }[];
}

/**
 * The demo workspace `npm start` creates on first start: an owner, an admin and a member, and a small
 * contact book to try the API on (companies, contacts with channels, tags, owners, one suppressed),
 * a dynamic and a static segment, a product with fit criteria and leads to review, deals on the default pipeline's board, a note and tasks, and an inbox with unread messages for
 * each of them. Seeded once, with the workspace: a start that finds it seeds nothing.
 */
export async function seedDemoWorkspace(deps: CoreDeps): Promise<DemoCredentials> {
  const created = await createWorkspace(deps, {
    name: 'Demo Workspace',
    ownerName: 'Olivia Owner',
    ownerEmail: 'owner@demo.example',
  });
  const owner = { workspaceId: created.workspace.id, userId: created.owner.id, role: 'owner' as const };
  const users: DemoCredentials['users'] = [
    { role: 'owner', userId: created.owner.id, email: created.owner.email, token: created.token.token },
  ];
  for (const [role, name] of [
    ['admin', 'Adam Admin'],
    ['member', 'Mia Member'],
  ] as const) {
    const user = await addUser(deps, owner, { name, email: `${role}@demo.example`, role });
    const token = await createToken(deps, owner, { userId: user.id, name: 'Demo token' });
    users.push({ role, userId: user.id, email: user.email, token: token.token });
  }
  const member = { ...owner, userId: users.find((user) => user.role === 'member')!.userId, role: 'member' as const };
  const admin = { ...owner, userId: users.find((user) => user.role === 'admin')!.userId, role: 'admin' as const };
  await seedDemoContacts(deps, owner, member);
  await seedDemoBot(deps, owner);
  await seedDemoInbox(deps, { owner, admin, member });
  return { workspaceId: created.workspace.id, users };
}

/** The autoreply bot: off by default, on for the contacts tagged `bot:on`, answering at any hour with two rules. */
async function seedDemoBot(deps: CoreDeps, owner: CallerContext) {
  await putBotSettings(deps, owner, {
    enabled: false,
    timeZone: 'Europe/London',
    replyWhen: 'always',
    rules: [
      { name: 'Pricing', keywords: ['price', 'prices', 'how much', 'cost'], template: 'Hi {{contact.firstName | "there"}}, CRM Pro starts at 25 EUR per user and month. A person will follow up with a quote.' },
      { name: 'Orders', intents: ['order_status'], template: 'Hello {{contact.firstName | "there"}}! You can follow your order at https://northwind.example/track.' },
    ],
  });
}

async function seedDemoContacts(deps: CoreDeps, owner: CallerContext, member: CallerContext) {
  await createCompany(deps, owner, { name: 'Northwind Traders', domains: ['northwind.example'] });
  await createCompany(deps, owner, { name: 'Globex Corporation', domains: ['globex.example'] });
  const people: { name: string; email: string; phone?: string; jobTitle?: string; city?: string; tags?: string[]; mine?: boolean }[] = [
    { name: 'Ana María López', email: 'ana.lopez@northwind.example', phone: '+34 612 345 678', jobTitle: 'Head of Purchasing', city: 'Madrid', tags: ['Hot lead'] },
    { name: 'Jürgen Schröder', email: 'j.schroeder@northwind.example', phone: '+49 151 23456789', jobTitle: 'CFO', city: 'Hamburg' },
    { name: 'Chloé Dubois', email: 'chloe@globex.example', phone: '+33 6 12 34 56 78', jobTitle: 'Operations', city: 'Paris', tags: ['Hot lead', 'Newsletter'], mine: true },
    { name: 'Kofi Mensah', email: 'kofi.mensah@globex.example', jobTitle: 'Engineer', city: 'Accra', mine: true },
    { name: 'Sarah Johnson', email: 'sarah.j@gmail.com', phone: '+1 415 555 0134', city: 'San Francisco', tags: ['Newsletter'] },
    // The autoreply bot answers Wei (the workspace default is off): write in as him by SMS once an SMS channel is connected.
    { name: 'Wei Chen', email: 'wei.chen@outlook.com', phone: '+44 20 7946 0018', city: 'London', tags: ['bot:on'] },
    { name: "Liam O'Brien", email: 'liam.obrien@proton.me', city: 'Dublin', tags: ['Partner'] },
    { name: 'Yuki Tanaka', email: 'yuki.tanaka@globex.example', jobTitle: 'Buyer', city: 'Osaka' },
  ];
  const ids: Record<string, string> = {};
  for (const person of people) {
    const contact = await createContact(deps, person.mine ? member : owner, {
      name: person.name,
      channels: [
        { kind: 'email', value: person.email },
        ...(person.phone ? [{ kind: 'phone' as const, value: person.phone }] : []),
      ],
      ...(person.jobTitle ? { jobTitle: person.jobTitle } : {}),
      ...(person.city ? { city: person.city } : {}),
      ...(person.mine ? { ownerId: member.userId } : {}),
    });
    if (person.tags) await addTags(deps, owner, contact.id, person.tags);
    ids[person.name] = contact.id;
  }
  const ana = ids['Ana María López']!;
  const chloe = ids['Chloé Dubois']!;
  const renewal = await createDeal(deps, owner, { title: 'Northwind yearly renewal', value: 1_200_000, currency: 'EUR', contactId: ana });
  await createDeal(deps, member, { title: 'Globex pilot', value: 450_000, currency: 'EUR', contactId: chloe, ownerId: member.userId });
  const won = await createDeal(deps, owner, { title: 'Northwind onboarding', value: 300_000, currency: 'USD', contactId: ids['Jürgen Schröder']! });
  await markWon(deps, owner, won.id);
  await createNote(deps, owner, {
    anchor: { kind: 'deal', id: renewal.id },
    markdown: 'Ana asked for a **two-year** option. See [their pricing page](https://northwind.example/pricing).',
  });
  await createTask(deps, member, { title: 'Send Chloé the pilot plan', priority: 'high', assigneeId: member.userId, anchor: { kind: 'contact', id: chloe } });
  await createTask(deps, owner, { title: 'Call Ana about the renewal', priority: 'normal', anchor: { kind: 'deal', id: renewal.id } });
  const unsubscribed = await createContact(deps, owner, {
    name: 'Pat Quiet',
    channels: [{ kind: 'email', value: 'pat.quiet@example.com' }],
  });
  await suppressContact(deps, owner, unsubscribed.id, 'Asked not to be contacted');

  // A dynamic segment (filled by its job once the local queues run) and a hand-picked one.
  await createSegment(deps, owner, {
    name: 'Hot leads in Europe',
    kind: 'dynamic',
    rule: {
      all: [
        { field: 'tags', op: 'has', value: 'Hot lead' },
        { field: 'city', op: 'in', value: ['Madrid', 'Paris', 'Hamburg', 'London', 'Dublin'] },
        { field: 'suppressed', op: 'eq', value: false },
      ],
    },
  });
  const partners = await createSegment(deps, owner, { name: 'Partner event invitees', kind: 'static' });
  await changeStaticMembers(deps, owner, partners.id, { contactIds: [ids["Liam O'Brien"]!, ids['Wei Chen']!] }, 'add');

  // A product to score leads for: a manual, a rule (applied by its job) and an AI criterion; two leads assessed by hand.
  const product = await createProduct(deps, owner, {
    name: 'CRM Pro',
    description: 'The yearly plan for sales teams of 10 or more',
    criteria: [
      { id: 'budget', name: 'Budget confirmed', weight: 3, kind: 'manual' },
      { id: 'region', name: 'In our sales regions', weight: 1, kind: 'rule', rules: [{ when: { field: 'city', op: 'in', value: ['Madrid', 'Paris', 'Hamburg', 'London', 'Dublin'] }, value: 5 }], otherwise: 2 },
      { id: 'intent', name: 'Buying intent in conversations', weight: 2, kind: 'ai' },
    ],
  });
  await recordAssessments(deps, owner, ana, await findProductItem(deps, owner.workspaceId, product.id), [
    { criterionId: 'budget', value: 5, evidence: 'Board approved the two-year renewal budget', source: 'user' },
  ]);
  await recordAssessments(deps, owner, ids['Kofi Mensah']!, await findProductItem(deps, owner.workspaceId, product.id), [
    { criterionId: 'budget', value: 2, evidence: 'Only a pilot budget this year', source: 'user' },
  ]);
}

async function findProductItem(deps: CoreDeps, workspaceId: string, productId: string) {
  const item = await findProduct(deps, workspaceId, productId);
  if (!item) throw new Error('The demo product was not written');
  return item;
}

/**
 * Conversations as the channels would bring them in (`ingestInbound`), on email, SMS, WhatsApp and
 * Telegram: from known contacts and from new senders (their contacts are created by the message).
 * In the pool they are unread for every user; one is assigned to the member (with an internal note),
 * one snoozed until tomorrow, one resolved; the owner writes to the admin in a direct conversation.
 */
async function seedDemoInbox(deps: CoreDeps, { owner, admin, member }: Record<'owner' | 'admin' | 'member', CallerContext>) {
  let externalIds = 0;
  const inbound = async (message: { channel: 'email' | 'sms' | 'whatsapp' | 'telegram'; from: string; body: string; name?: string }) =>
    (await ingestInbound(deps, owner, ingestInboundInput.parse({ ...message, externalId: `demo-${++externalIds}` }))).result;
  const note = (caller: CallerContext, conversationId: string, body: string) =>
    sendMessage(deps, caller, conversationId, sendMessageInput.parse({ body, note: true }));

  await inbound({ channel: 'email', from: 'ana.lopez@northwind.example', body: 'Hi! Could you send the two-year renewal option in writing? Our board meets on Thursday.' });
  await inbound({ channel: 'email', from: 'ana.lopez@northwind.example', body: 'And could it include the onboarding days we discussed?' });
  await inbound({ channel: 'sms', from: '+44 7911 123456', name: 'Harriet Shaw', body: 'Hello, is the London showroom open on Saturday?' });
  await inbound({ channel: 'whatsapp', from: '+34 622 123 456', name: 'Lucía Fernández', body: '¡Hola! ¿Tenéis el catálogo 2026 en español?' });
  await inbound({ channel: 'telegram', from: '@tomas_rivera', name: 'Tomás Rivera', body: 'Hi, my order still shows "processing" after 5 days. Order #4471.' });

  // Assigned to the member: Chloé is her contact; the owner leaves an internal note for her.
  const pilot = await inbound({ channel: 'email', from: 'chloe@globex.example', body: 'The pilot team is ready. Can we start on Monday?' });
  await assignConversation(deps, owner, pilot.conversationId, member.userId);
  await note(owner, pilot.conversationId, 'Chloé is our champion for the Globex pilot: please confirm Monday today.');

  const snoozed = await inbound({ channel: 'email', from: 'sarah.j@gmail.com', body: 'I am travelling this week, let us talk next Tuesday.' });
  await setConversationStatus(deps, owner, snoozed.conversationId, {
    status: 'snoozed',
    snoozedUntil: new Date(deps.clock.nowMs() + 86_400_000).toISOString(),
  });

  const resolved = await inbound({ channel: 'email', from: 'j.schroeder@northwind.example', body: 'Invoice received, thank you.' });
  await setConversationStatus(deps, admin, resolved.conversationId, { status: 'resolved' });

  const { conversation: direct } = await openConversation(deps, owner, { kind: 'direct', userIds: [admin.userId] });
  await sendMessage(deps, owner, direct.id, sendMessageInput.parse({ body: 'Can you take the Northwind renewal call tomorrow at 10?' }));
}

