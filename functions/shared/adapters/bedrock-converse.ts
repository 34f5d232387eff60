import type { BedrockRuntimeClient, ConverseCommandOutput } from '@aws-sdk/client-bedrock-runtime';
import * as z from 'zod';
import { QualifierError } from '../../../domain/qualification/qualifier-error';

// Imported on first use, not at cold start: bundled, a static import of the SDK client would load it
// in every function that carries this adapter, whether it calls it or not.
const bedrockRuntime = () => import('@aws-sdk/client-bedrock-runtime');

/** Bedrock's errors that may pass (AWS's troubleshooting guide: retry with backoff). */
const passingErrors = new Set([
  'ThrottlingException',
  'ServiceUnavailableException',
  'InternalServerException',
  'ModelTimeoutException',
  'ModelNotReadyException',
  'ModelErrorException',
  'ServiceQuotaExceededException',
  'TimeoutError',
]);

/** A Bedrock call's failure as a QualifierError: passing ones are retried by the job's queue, the rest fail the job. */
export function qualifierErrorOf(error: unknown): QualifierError {
  const { name = 'Error', message = String(error), $fault } = error as { name?: string; message?: string; $fault?: 'client' | 'server' };
  // A server fault or no answer at all (a network error) may pass; a client fault (access denied, an unknown model, a bad request) will not.
  const retryable = passingErrors.has(name) || $fault === 'server' || $fault === undefined;
  return new QualifierError(
    retryable ? 'qualifier_unavailable' : 'qualifier_refused',
    `Bedrock ${name}: ${message}`,
    retryable,
    { cause: error },
  );
}

/** A zod schema as a tool's input schema (JSON Schema without `$schema`, which the model needs not). */
export function toolInputSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _draft, ...json } = z.toJSONSchema(schema) as Record<string, unknown>;
  return json;
}

export interface ToolCallRequest {
  client: BedrockRuntimeClient;
  modelId: string;
  system: string;
  prompt: string;
  maxTokens: number;
  tool: { name: string; description: string; inputSchema: Record<string, unknown> };
}

/**
 * One Converse call with one tool the model is made to call (`toolChoice` names it), at temperature 0.
 * Returns the tool call's input (undefined when the model did not call it) and the stop reason; a failed
 * call throws a QualifierError (passing or not, {@link qualifierErrorOf}).
 */
export async function converseWithTool(request: ToolCallRequest): Promise<{ input: unknown; stopReason: string | undefined }> {
  let response: ConverseCommandOutput;
  try {
    response = await request.client.send(
      new (await bedrockRuntime()).ConverseCommand({
        modelId: request.modelId,
        system: [{ text: request.system }],
        messages: [{ role: 'user', content: [{ text: request.prompt }] }],
        inferenceConfig: { maxTokens: request.maxTokens, temperature: 0 },
        toolConfig: {
          tools: [{ toolSpec: { name: request.tool.name, description: request.tool.description, inputSchema: { json: request.tool.inputSchema as never } } }],
          toolChoice: { tool: { name: request.tool.name } },
        },
      }),
    );
  } catch (error) {
    throw qualifierErrorOf(error);
  }
  const toolUse = response.output?.message?.content?.find((block) => block.toolUse?.name === request.tool.name)?.toolUse;
  return { input: toolUse ? toolUse.input : undefined, stopReason: response.stopReason };
}

/** The client, built once per cold start; on AWS the region's endpoint and the function's role. */
export const createBedrockRuntimeClient = async (region: string) => new (await bedrockRuntime()).BedrockRuntimeClient({ region });
