import { AccessDeniedException, BedrockRuntimeClient, ConverseCommand, ThrottlingException } from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { RespondInput } from '../../domain/shared/ports';
import { answerToolName, createBedrockResponder } from '../../functions/shared/adapters/bedrock-responder';

const input: RespondInput = {
  workspaceId: 'ws_1',
  conversationId: 'cv_1',
  channel: 'whatsapp',
  messages: [
    { author: 'contact', text: 'Hi, where is my order #4471?', at: '2026-01-15T09:00:00.000Z' },
  ],
  contact: { name: 'Ana' },
  intents: ['order_status', 'pricing'],
};

describe('the Bedrock responder (Converse with a forced tool)', () => {
  const bedrock = mockClient(BedrockRuntimeClient);
  beforeEach(() => bedrock.reset());
  const responder = () => createBedrockResponder({ client: new BedrockRuntimeClient({ region: 'eu-west-1' }), modelId: 'anthropic.claude-3-haiku-20240307-v1:0' });
  const toolAnswer = (answer: unknown) => ({
    output: { message: { role: 'assistant' as const, content: [{ toolUse: { toolUseId: 'tu_1', name: answerToolName, input: answer as never } }] } },
    stopReason: 'tool_use' as const,
    usage: { inputTokens: 300, outputTokens: 40, totalTokens: 340 },
    metrics: { latencyMs: 600 },
  });

  it('sends the conversation and the intents with one forced tool, and passes its answer through', async () => {
    bedrock.on(ConverseCommand).resolves(toolAnswer({ intent: 'order_status', reply: 'It ships today.', confidence: 0.9 }));
    expect(await responder().respond(input)).toEqual({ intent: 'order_status', reply: 'It ships today.', confidence: 0.9 });
    const sent = bedrock.commandCalls(ConverseCommand)[0]!.args[0].input;
    expect(sent.toolConfig?.toolChoice).toEqual({ tool: { name: answerToolName } });
    expect(sent.toolConfig?.tools).toHaveLength(1);
    const prompt = sent.messages?.[0]?.content?.[0]?.text ?? '';
    expect(prompt).toContain('Intents: order_status, pricing');
    expect(prompt).toContain('contact: Hi, where is my order #4471?');
  });

  it('an intent nobody asked about is none; an answer that does not fit is no answer (confidence 0)', async () => {
    bedrock
      .on(ConverseCommand)
      .resolvesOnce(toolAnswer({ intent: 'refund', reply: null, confidence: 0.9 }))
      .resolvesOnce(toolAnswer({ intent: 'pricing', confidence: 7 }));
    expect(await responder().respond(input)).toEqual({ intent: null, reply: null, confidence: 0.9 });
    expect(await responder().respond(input)).toEqual({ intent: null, reply: null, confidence: 0 });
  });

  it('tells passing failures from lasting ones, as the qualifier does', async () => {
    bedrock
      .on(ConverseCommand)
      .rejectsOnce(new ThrottlingException({ message: 'Too many requests', $metadata: {} }))
      .rejectsOnce(new AccessDeniedException({ message: 'No access', $metadata: {} }));
    await expect(responder().respond(input)).rejects.toMatchObject({ retryable: true });
    await expect(responder().respond(input)).rejects.toMatchObject({ retryable: false, code: 'qualifier_refused' });
  });
});
