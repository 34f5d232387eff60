import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';

/** A webhook handler for the gateway test: echoes what the Function URL event carried. */
export async function handler(event: LambdaFunctionURLEvent): Promise<LambdaFunctionURLResult> {
  const body = event.body && event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      version: event.version,
      routeKey: event.routeKey,
      rawPath: event.rawPath,
      method: event.requestContext.http.method,
      query: event.queryStringParameters ?? {},
      signature: event.headers['x-signature'],
      body,
    }),
  };
}
