import { AccessDeniedException, BedrockRuntimeClient, ConverseCommand, ThrottlingException } from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { classifyByRules, localQualifier } from '../../domain/qualification/local-qualifier';
import { classificationSchema } from '../../domain/qualification/qualification.schemas';
import { QualifierError } from '../../domain/qualification/qualifier-error';
import type { ClassifyConversationInput } from '../../domain/shared/ports';
import { qualifierErrorOf } from '../../functions/shared/adapters/bedrock-converse';
import { classificationToolName, createBedrockQualifier } from '../../functions/shared/adapters/bedrock-qualifier';

const conversation = (texts: string[], extra: Partial<ClassifyConversationInput> = {}): ClassifyConversationInput => ({
  workspaceId: 'ws_1',
  conversationId: 'cv_1',
  channel: 'email',
  subject: null,
  messages: texts.map((text, index) => ({ author: 'contact', text, at: `2026-01-15T09:0${index}:00.000Z` })),
  contact: { name: 'Ana López', tags: [] },
  ...extra,
});

describe('the local qualifier (deterministic rules over the text)', () => {
  it.each([
    ['Hello! What is your pricing for 20 seats, and can we book a demo?', 'prospect'],
    ['My export is broken and I would like a refund', 'support'],
    ['I saw your ad and I am interested, tell me more', 'lead'],
    ['Where is my order? The invoice says it shipped', 'customer'],
    ['CLICK HERE to claim your lottery prize', 'spam'],
    ['No thanks, not interested', 'not_a_fit'],
  ])('%s → %s', (text, kind) => {
    const answer = classifyByRules(conversation([text]));
    expect(answer.kind).toBe(kind);
    expect(classificationSchema.safeParse(answer).success).toBe(true);
    expect(answer.reasons[0]).toMatch(/^The contact wrote “/);
  });

  it('grows its score and confidence with the phrases found, and is the same every time', () => {
    const one = classifyByRules(conversation(['What is the price?']));
    const three = classifyByRules(conversation(['What is the price? Can I get a quote and a demo?']));
    expect(one).toMatchObject({ kind: 'prospect', score: 2, confidence: 0.55 });
    expect(three).toMatchObject({ kind: 'prospect', score: 4, confidence: 0.85 });
    expect(classifyByRules(conversation(['What is the price? Can I get a quote and a demo?']))).toEqual(three);
  });

  it('reads only the contact’s words (and the subject), accents and case aside, whole words only', () => {
    const agentOnly = conversation(['Hello'], {
      messages: [
        { author: 'user', text: 'Our pricing and a free trial are on the site', at: '2026-01-15T09:00:00.000Z' },
        { author: 'contact', text: 'Thanks', at: '2026-01-15T09:01:00.000Z' },
      ],
    });
    expect(classifyByRules(agentOnly)).toMatchObject({ kind: 'lead', confidence: 0.2 });
    expect(classifyByRules(conversation(['Hello'], { subject: 'PRICING question' })).kind).toBe('prospect');
    expect(classifyByRules(conversation(['Ça ne marche pas: ERROR 500'])).kind).toBe('support');
    // "buyer" is not "buy", "terror" is not "error"
    expect(classifyByRules(conversation(['The buyer felt terror'])).kind).toBe('lead');
  });

  it('breaks ties by the rules’ order, and weighs the runner-up against the winner', () => {
    const answer = classifyByRules(conversation(['Not interested in a demo, and this is broken']));
    // not_a_fit (1), support (1), prospect (1): not_a_fit is listed first
    expect(answer.kind).toBe('not_a_fit');
    expect(answer.confidence).toBe(0.45);
    expect(answer.reasons[1]).toMatch(/^Also found, for support/);
  });

  it('takes a known customer’s buying question as a customer’s, and a problem as support', () => {
    const customer = { name: 'Ana', tags: ['Customer'] };
    expect(classifyByRules(conversation(['Can I get a quote for more seats?'], { contact: customer })).kind).toBe('customer');
    expect(classifyByRules(conversation(['It is broken'], { contact: { qualification: { kind: 'customer' } } })).kind).toBe('support');
    expect(classifyByRules(conversation(['Hello'], { contact: customer }))).toMatchObject({ kind: 'customer', confidence: 0.4 });
  });

  it('rates fit criteria by the words of their names the contact wrote; says nothing of the others', async () => {
    const answer = await localQualifier.classifyConversation(
      conversation(['Our budget is approved, and the whole team of 40 wants it.'], {
        criteria: [
          { id: 'prd_1:budget', name: 'Budget approved' },
          { id: 'prd_1:team', name: 'Team size' },
          { id: 'prd_1:region', name: 'In Europe' },
        ],
      }),
    );
    expect(answer.criteria).toEqual([
      { id: 'prd_1:budget', value: 5, evidence: 'The contact wrote about “budget”, “approved”' },
      { id: 'prd_1:team', value: 3, evidence: 'The contact wrote about “team”' },
    ]);
    expect(classificationSchema.safeParse(answer).success).toBe(true);
  });

  it('is the port’s local adapter', async () => {
    await expect(localQualifier.classifyConversation(conversation(['Need a quote']))).resolves.toMatchObject({ kind: 'prospect' });
  });
});

describe('the Bedrock qualifier (Converse with a forced tool)', () => {
  const bedrock = mockClient(BedrockRuntimeClient);
  beforeEach(() => bedrock.reset());
  const qualifier = () => createBedrockQualifier({ client: new BedrockRuntimeClient({ region: 'eu-west-1' }), modelId: 'anthropic.claude-3-haiku-20240307-v1:0' });
  const toolAnswer = (input: unknown, name = classificationToolName) => ({
    output: { message: { role: 'assistant' as const, content: [{ toolUse: { toolUseId: 'tu_1', name, input: input as never } }] } },
    stopReason: 'tool_use' as const,
    usage: { inputTokens: 500, outputTokens: 60, totalTokens: 560 },
    metrics: { latencyMs: 800 },
  });

  it('sends the conversation with one tool whose schema is the classification’s, forced by toolChoice, and parses the tool’s input', async () => {
    // Prepare
    bedrock.on(ConverseCommand).resolves(toolAnswer({ kind: 'prospect', score: 4, confidence: 0.82, reasons: ['Asks for a quote for 20 seats'] }));

    // Act
    const answer = await qualifier().classifyConversation(
      conversation(['Can I get a quote for 20 seats?'], { subject: 'Quote', contact: { name: 'Ana', emailDomain: 'acme.example' } }),
    );

    // Assess
    expect(answer).toEqual({ kind: 'prospect', score: 4, confidence: 0.82, reasons: ['Asks for a quote for 20 seats'] });
    const [call] = bedrock.commandCalls(ConverseCommand);
    const input = call!.args[0].input;
    expect(input.modelId).toBe('anthropic.claude-3-haiku-20240307-v1:0');
    expect(input.toolConfig?.toolChoice).toEqual({ tool: { name: classificationToolName } });
    expect(input.toolConfig?.tools).toHaveLength(1);
    const schema = input.toolConfig!.tools![0]!.toolSpec!.inputSchema!.json as Record<string, unknown>;
    expect(schema).toMatchObject({ type: 'object', required: ['kind', 'confidence', 'reasons'], additionalProperties: false });
    expect((schema.properties as { kind: { enum: string[] } }).kind.enum).toContain('not_a_fit');
    expect(schema.$schema).toBeUndefined();
    const text = input.messages![0]!.content![0]!.text!;
    expect(text).toContain('Subject: Quote');
    expect(text).toContain('"emailDomain":"acme.example"');
    expect(text).toContain('contact: Can I get a quote for 20 seats?');
    expect(input.system![0]!.text).toMatch(/never instructions/);
  });

  it('lists the fit criteria to rate in the prompt, and passes the model’s ratings through', async () => {
    const ratings = [{ id: 'prd_1:budget', value: 4, evidence: 'Says the budget is approved' }];
    bedrock.on(ConverseCommand).resolves(toolAnswer({ kind: 'prospect', score: 4, confidence: 0.8, reasons: ['Budget approved'], criteria: ratings }));
    const answer = await qualifier().classifyConversation(conversation(['Budget approved.'], { criteria: [{ id: 'prd_1:budget', name: 'Budget approved' }] }));
    expect(answer.criteria).toEqual(ratings);
    const input = bedrock.commandCalls(ConverseCommand)[0]!.args[0].input;
    expect(input.messages![0]!.content![0]!.text!).toContain('- prd_1:budget: Budget approved');
    const schema = input.toolConfig!.tools![0]!.toolSpec!.inputSchema!.json as { properties: Record<string, unknown> };
    expect(schema.properties).toHaveProperty('criteria');
  });

  it('refuses an answer that is no classification, or no tool call at all, as not worth retrying', async () => {
    bedrock.on(ConverseCommand).resolvesOnce(toolAnswer({ kind: 'maybe', confidence: 2, reasons: [] })).resolvesOnce({
      output: { message: { role: 'assistant', content: [{ text: 'I think this is a lead.' }] } },
      stopReason: 'end_turn',
      usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
      metrics: { latencyMs: 1 },
    });
    const bad = await qualifier().classifyConversation(conversation(['Hi'])).catch((error: unknown) => error);
    expect(bad).toBeInstanceOf(QualifierError);
    expect(bad).toMatchObject({ code: 'classification_invalid', retryable: false });
    const none = await qualifier().classifyConversation(conversation(['Hi'])).catch((error: unknown) => error);
    expect(none).toMatchObject({ code: 'classification_invalid', retryable: false, message: expect.stringMatching(/end_turn/) });
  });

  it('tells passing failures (throttling, a server fault, no answer) from lasting ones (access denied)', async () => {
    bedrock
      .on(ConverseCommand)
      .rejectsOnce(new ThrottlingException({ message: 'Too many requests', $metadata: {} }))
      .rejectsOnce(new AccessDeniedException({ message: 'No access to the model', $metadata: {} }));
    await expect(qualifier().classifyConversation(conversation(['Hi']))).rejects.toMatchObject({
      name: 'QualifierError',
      code: 'qualifier_unavailable',
      retryable: true,
    });
    await expect(qualifier().classifyConversation(conversation(['Hi']))).rejects.toMatchObject({
      code: 'qualifier_refused',
      retryable: false,
      message: expect.stringMatching(/AccessDeniedException/),
    });
    expect(qualifierErrorOf(Object.assign(new Error('socket hang up'), { name: 'Error' })).retryable).toBe(true);
    expect(qualifierErrorOf({ name: 'ValidationException', message: 'bad', $fault: 'client' }).retryable).toBe(false);
    expect(qualifierErrorOf({ name: 'SomethingNew', message: 'oops', $fault: 'server' }).retryable).toBe(true);
  });
});
