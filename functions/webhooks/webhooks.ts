/**
 * Inbound channel webhooks, each a Lambda Function URL: the single source for the CDK function URLs
 * (infra/) and the local gateway, which serves them under `/hooks/<name>`. Channel webhooks
 * (Telegram, WhatsApp, SES notifications) arrive with the inbox.
 */
export interface WebhookDefinition {
  /** Served locally at `/hooks/<name>`; on AWS at the function's own URL. */
  name: string;
  /** Handler module, exporting `handler(event: LambdaFunctionURLEvent): Promise<LambdaFunctionURLResult>`. */
  entry: string;
}

export const webhooks: WebhookDefinition[] = [];
