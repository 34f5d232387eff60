import { Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import type { CrmStack } from './crm-stack';

/**
 * AWS's own rule packs (cdk-nag's AwsSolutions and Serverless) run on every synth: `cdk synth` and
 * `cdk deploy` fail on a finding nobody acknowledged, and so does the infra test.
 */
export function applyRulePacks(scope: IConstruct): void {
  Validations.of(scope).addPlugins(new AwsSolutionsChecks(scope), new ServerlessChecks(scope));
}

/**
 * The findings this stack keeps on purpose, each with the reason a reviewer would want. Everything
 * else the packs find is fixed in the constructs (own roles, named actions, tracing, access logs,
 * SSL-only topics and queues, dead-letter queues where work is asynchronous).
 */
export const acknowledgedRules = {
  xrayAndStreams: {
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'Only actions without resource-level permissions take "*": xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) and dynamodb:ListStreams (the stream readers\' event source mapping). Every other statement names its resources.',
  },
  objectPrefixes: {
    id: 'AwsSolutions-IAM5',
    reason:
      'Object keys are made per upload, export or attachment (workspace and id in the key), so a grant names the prefix: attachments/, uploads/, exports/ or inbound-mail/, each only to the functions that use it, with named actions (no s3:*).',
  },
  sesIdentities: {
    id: 'AwsSolutions-IAM5',
    reason:
      'Channel mail is sent from the identity each workspace connected (its own domain), unknown when the stack is deployed; the grant is tied to the channel configuration set.',
  },
  modelInAnyRegion: {
    id: 'AwsSolutions-IAM5',
    reason:
      'A cross-region inference profile (us., eu., ... model ids) routes each call to the foundation model in whichever of its regions has capacity, so the grant names that one model in every region, next to the profile itself.',
  },
  alarmMailHasNoFallback: {
    id: 'Serverless-SNSRedrivePolicy',
    reason:
      'The alarm e-mail subscription: an alarm SNS cannot mail has nowhere better to go, and the alarm stays in ALARM in CloudWatch (and on the dashboard) either way.',
  },
  bearerTokens: {
    id: 'AwsSolutions-APIG4',
    reason:
      'Every route but the docs and the OpenAPI document requires a bearer token, checked in the function: the token resolves to a workspace, a user and a role in the same DynamoDB read the request needs anyway. An API Gateway Lambda authorizer would add a second invocation per request (or a cache that outlives a revoked token). The public routes are public by design.',
  },
  cursorKeyRotation: {
    id: 'AwsSolutions-SMG4',
    reason:
      'The secret is key material for sealing list cursors, not a credential: nothing outside the stack holds it. Rotating it only invalidates the cursors handed out (clients start their listing over); replace it by a new deployment when wanted.',
  },
  failureQueuesAreLast: {
    id: 'Serverless-SQSRedrivePolicy',
    reason:
      'A dead-letter or on-failure queue is the end of the line: what lands there is kept 14 days, raises an alarm and is read by people (or by the dead-letter function, which fails the job). A queue behind it would only hide the failure.',
  },
  failureQueuesNeedNoDlq: {
    id: 'AwsSolutions-SQS3',
    reason:
      'These are the stream readers\' on-failure destinations: Lambda writes the failed batch coordinates there. They are dead-letter queues themselves, with an alarm.',
  },
  synchronousInvocations: {
    id: 'Serverless-LambdaDLQ',
    reason:
      'Invoked synchronously only (API Gateway, a Function URL, or an SQS or stream event source mapping), so Lambda never queues an event that a DLQ could catch: failures go back to the caller, to the job queue\'s redrive policy or to the stream mapping\'s on-failure queue. The scheduled functions, invoked asynchronously, have a DLQ.',
  },
  sqsMappings: {
    id: 'Serverless-LambdaEventSourceMappingDestination',
    reason:
      'SQS event source mappings cannot have an on-failure destination: a message that keeps failing goes to the queue\'s dead-letter queue by its redrive policy (maxReceiveCount), and the dead-letter function fails the job it belonged to.',
  },
} as const;

/**
 * Acknowledges one rule (or one finding of it, e.g. `Resource::<Bucket.Arn>/uploads/*` of IAM5) on a
 * construct and its children. Grants acknowledge their own findings where they are made (data.ts,
 * crm-stack.ts), so an acknowledgement never outlives the grant it is about.
 */
export function acknowledgeFinding(scope: IConstruct, rule: { id: string; reason: string }, finding?: string): void {
  Validations.of(scope).acknowledge({ id: finding ? `${rule.id}[${finding}]` : rule.id, reason: rule.reason });
}

/**
 * A resource (ARN, possibly with tokens) as cdk-nag names it in a finding: `Resource::<Bucket.Arn>/uploads/*`,
 * `arn:<AWS::Partition>:ses:...` or, when the stack's environment is known, with its region and account.
 */
export function findingResource(scope: IConstruct, value: string): string {
  const render = (part: unknown): string => {
    if (typeof part === 'string') return part;
    const intrinsic = part as { Ref?: string; 'Fn::GetAtt'?: [string, string]; 'Fn::Join'?: [string, unknown[]] };
    if (intrinsic.Ref) return `<${intrinsic.Ref}>`;
    if (intrinsic['Fn::GetAtt']) return `<${intrinsic['Fn::GetAtt'].join('.')}>`;
    if (intrinsic['Fn::Join']) return intrinsic['Fn::Join'][1].map(render).join(intrinsic['Fn::Join'][0]);
    return JSON.stringify(part);
  };
  return `Resource::${render(Stack.of(scope).resolve(value))}`;
}

/** Applies the rest of {@link acknowledgedRules} to the constructs they are about, and nowhere else. */
export function acknowledgeFindings(stack: CrmStack): void {
  const scheduled = new Set(stack.schedules.scheduled.map(({ fn }) => fn));
  for (const fn of stack.functions.values()) {
    acknowledgeFinding(fn.role!, acknowledgedRules.xrayAndStreams);
    if (!scheduled.has(fn)) acknowledgeFinding(fn, acknowledgedRules.synchronousInvocations);
  }

  acknowledgeFinding(stack.observability.alarmTopic, acknowledgedRules.alarmMailHasNoFallback);
  acknowledgeFinding(stack.api.httpApi, acknowledgedRules.bearerTokens);
  acknowledgeFinding(stack.api.routeStack, acknowledgedRules.bearerTokens);
  acknowledgeFinding(stack.api.cursorSecret, acknowledgedRules.cursorKeyRotation);

  for (const { failureQueue } of stack.streams.readers) {
    acknowledgeFinding(failureQueue, acknowledgedRules.failureQueuesAreLast);
    acknowledgeFinding(failureQueue, acknowledgedRules.failureQueuesNeedNoDlq);
  }
  for (const { fn, deadLetterQueue } of stack.jobs.queues) {
    acknowledgeFinding(deadLetterQueue, acknowledgedRules.failureQueuesAreLast);
    acknowledgeFinding(fn, acknowledgedRules.sqsMappings);
  }
  if (stack.jobs.deadLetterFunction) acknowledgeFinding(stack.jobs.deadLetterFunction, acknowledgedRules.sqsMappings);
  acknowledgeFinding(stack.schedules.failedTicks, acknowledgedRules.failureQueuesAreLast);
}
