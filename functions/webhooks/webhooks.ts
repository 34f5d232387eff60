/**
 * Inbound webhooks, each a Lambda Function URL: the single source for the CDK function URLs (infra/)
 * and the local gateway. `channel-hooks` takes every provider's channel webhooks, at
 * `/hooks/<provider>/<connectionId>` (the gateway sends every path under its `pathPrefix` to it).
 */
export interface WebhookDefinition {
  /** The function's name; served locally at `/hooks/<name>` unless `pathPrefix` says otherwise. */
  name: string;
  /** Handler module, exporting `handler(event: LambdaFunctionURLEvent): Promise<LambdaFunctionURLResult>`. */
  entry: string;
  /** Every path starting with this goes to the function (locally; on AWS its Function URL takes any path). */
  pathPrefix?: string;
}

export const webhooks: WebhookDefinition[] = [
  { name: 'channel-hooks', entry: 'functions/webhooks/channel-hooks.handler.ts', pathPrefix: '/hooks/' },
];
