import { readFileSync } from 'node:fs';
import { App, type CfnElement } from 'aws-cdk-lib';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tableDefinition } from '../../domain/store/table-definition';
import { jobQueues, type JobQueueDefinition } from '../../functions/jobs/job-queues';
import { handlerGroups, routeKey, routeList, takesCursor } from '../../functions/http/routes';
import type { ScheduleDefinition } from '../../functions/schedules/schedules';
import { maxFiltersPerMapping, maxStreamReaders, streamReaders } from '../../functions/streams/stream-consumers';
import { CrmStack, type CrmStackProps } from '../../infra/crm-stack';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};

type Resource = { Type: string; Properties: Record<string, unknown> & { [key: string]: unknown } };
type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

/**
 * Skips esbuild (the template is the same without bundling every handler) and the built-in
 * CloudFormation validation (~5 s per synth here; `npm run synth` still runs it).
 */
function synth(props: CrmStackProps = {}) {
  const app = new App({
    // cdk.json's feature flags, so the template tested is the template deployed.
    context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: false,
  });
  const stack = new CrmStack(app, 'CrmTest', {
    stage: 'test',
    throttle: { rateLimit: 25, burstLimit: 40 },
    ...props,
  });
  const template = Template.fromStack(stack);
  const logicalId = (construct: IConstruct) => stack.getLogicalId(construct.node.defaultChild as CfnElement);
  return { stack, template, logicalId };
}

const arnOf = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });

describe('CrmStack', () => {
  let built: ReturnType<typeof synth>;
  let template: Template;
  beforeAll(() => {
    built = synth();
    template = built.template;
  });

  /** The routes' nested stack: its template, and the value each of its parameters gets from the main stack. */
  const routeStack = () => {
    const nested = Template.fromStack(built.stack.api.routeStack);
    const [stackResource] = Object.values(template.findResources('AWS::CloudFormation::Stack')) as Resource[];
    const parameters = (stackResource!.Properties.Parameters ?? {}) as Record<string, unknown>;
    return { nested, parameters };
  };

  /** Every statement of the policies attached to the function's role. */
  const statementsOfRole = (fn: NodejsFunction) => {
    const role = built.logicalId(fn.role!);
    return (Object.values(template.findResources('AWS::IAM::Policy')) as Resource[])
      .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(`"${role}"`))
      .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  };

  /** Item actions on the table, Query on each index by name, and nothing else of the table. */
  const expectTableItems = (fn: NodejsFunction, access: 'read' | 'readWrite') => {
    const tableArn = { 'Fn::GetAtt': [built.logicalId(built.stack.data.table), 'Arn'] };
    const onTable = statementsOfRole(fn).filter((statement) => JSON.stringify(statement.Resource).includes(JSON.stringify(tableArn)));
    const reads = ['dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:Query'];
    const writes = ['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];
    const items = onTable.find((statement) => JSON.stringify(statement.Resource) === JSON.stringify(tableArn));
    expect([items?.Action].flat().sort()).toEqual((access === 'read' ? reads : [...reads, ...writes]).sort());
    const indexes = onTable.find((statement) => JSON.stringify(statement.Resource).includes('/index/'));
    expect(indexes?.Action).toBe('dynamodb:Query');
    expect(JSON.stringify(indexes?.Resource).match(/\/index\/[^"]+/g)).toEqual(
      tableDefinition.globalIndexes.map((index) => `/index/${index.indexName}`),
    );
  };

  /** Route key -> logical id (in the main stack) of the function its integration invokes. */
  const routeTargets = () => {
    const { nested, parameters } = routeStack();
    const integrations = {
      ...(template.findResources('AWS::ApiGatewayV2::Integration') as Record<string, Resource>),
      ...(nested.findResources('AWS::ApiGatewayV2::Integration') as Record<string, Resource>),
    };
    // A reference from the nested stack to the main one arrives as a parameter: follow it back.
    const resolve = (value: unknown): unknown => {
      const ref = (value as { Ref?: string }).Ref;
      return ref !== undefined && ref in parameters ? resolve(parameters[ref]) : value;
    };
    const targetOf = (route: Resource) => {
      const target = route.Properties.Target as { 'Fn::Join': [string, [string, unknown]] };
      const integrationRef = resolve(target['Fn::Join'][1][1]) as { Ref: string };
      const uri = resolve(integrations[integrationRef.Ref]!.Properties.IntegrationUri) as { 'Fn::GetAtt': [string, string] };
      return uri['Fn::GetAtt'][0];
    };
    const routes = [
      ...Object.values(template.findResources('AWS::ApiGatewayV2::Route')),
      ...Object.values(nested.findResources('AWS::ApiGatewayV2::Route')),
    ] as Resource[];
    return new Map(routes.map((route) => [route.Properties.RouteKey as string, targetOf(route)]));
  };
  const httpFunctionId = (group: string) => built.logicalId(built.stack.functions.get(`http:${group}`)!);

  it('builds the table from tableDefinition', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: tableDefinition.partitionKey, KeyType: 'HASH' },
        { AttributeName: tableDefinition.sortKey, KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamViewType: tableDefinition.stream },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: tableDefinition.timeToLiveAttribute, Enabled: true },
      GlobalSecondaryIndexes: tableDefinition.globalIndexes.map((index) => ({
        IndexName: index.indexName,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    });
  });

  it('keeps import/export files private, encrypted, short-lived and reachable by presigned URL', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Prefix: 'uploads/', ExpirationInDays: 7, Status: 'Enabled' }),
          Match.objectLike({ Prefix: 'exports/', ExpirationInDays: 7, Status: 'Enabled' }),
        ]),
      },
      CorsConfiguration: { CorsRules: [Match.objectLike({ AllowedMethods: ['PUT', 'GET', 'HEAD'] })] },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('refuses plain HTTP on every SNS topic and SQS queue: each has a policy denying aws:SecureTransport false', () => {
    const resources = template.toJSON().Resources as Record<string, Resource>;
    const deniesInsecure = (policyType: string, listKey: string, id: string) =>
      Object.values(resources).some(
        (r) =>
          r.Type === policyType &&
          JSON.stringify(r.Properties[listKey]).includes(`"${id}"`) &&
          JSON.stringify(r.Properties.PolicyDocument).includes('"aws:SecureTransport":"false"'),
      );
    const topics = Object.keys(template.findResources('AWS::SNS::Topic'));
    const queues = Object.keys(template.findResources('AWS::SQS::Queue'));
    expect(topics.length).toBeGreaterThanOrEqual(2);
    expect(queues.length).toBeGreaterThanOrEqual(10);
    for (const topic of topics) expect(deniesInsecure('AWS::SNS::TopicPolicy', 'Topics', topic), topic).toBe(true);
    for (const queue of queues) expect(deniesInsecure('AWS::SQS::QueuePolicy', 'Queues', queue), queue).toBe(true);
  });

  it('has one route per route table entry in the routes’ nested stack, plus $default in the main one', () => {
    const keysIn = (where: Template) =>
      Object.values(where.findResources('AWS::ApiGatewayV2::Route')).map((route) => (route as Resource).Properties.RouteKey);
    expect(keysIn(template)).toEqual(['$default']);
    expect(keysIn(routeStack().nested).sort()).toEqual(routeList.map(routeKey).sort());
    // The main stack stays well inside CloudFormation's 500 resources per stack.
    expect(Object.keys(template.toJSON().Resources).length).toBeLessThan(400);
  });

  it('has one Node 24 arm64 function per handler group, and each route invokes its group', () => {
    const resources = template.toJSON().Resources as Record<string, Resource>;
    const httpFunctionIds = handlerGroups.map(httpFunctionId);
    expect(new Set(httpFunctionIds).size).toBe(handlerGroups.length);
    for (const id of httpFunctionIds) {
      expect(resources[id]).toMatchObject({
        Type: 'AWS::Lambda::Function',
        Properties: {
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          MemorySize: 1024,
          Handler: 'index.handler',
          LoggingConfig: { LogFormat: 'JSON' },
          Environment: {
            Variables: {
              TABLE_NAME: { Ref: built.logicalId(built.stack.data.table) },
              POWERTOOLS_SERVICE_NAME: 'crm',
              LOG_LEVEL: 'INFO',
            },
          },
        },
      });
      // The logger maps stacks itself (functions/shared/source-mapped-stacks.ts).
      expect((resources[id]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables).not.toHaveProperty('NODE_OPTIONS');
    }

    const targets = routeTargets();
    for (const route of routeList)
      expect(targets.get(routeKey(route)), routeKey(route)).toBe(httpFunctionId(route.group));
    expect(targets.get('GET /v1/users/{userId}')).toBe(httpFunctionId('users'));
    expect(targets.get('DELETE /v1/tokens/{tokenId}')).toBe(httpFunctionId('tokens'));
    expect(targets.get('$default')).toBe(httpFunctionId('meta'));
    // One invoke permission per function for the whole API, not one per route: beside the routes in
    // their nested stack, and the $default route's (the meta function's) in the main stack.
    const apiPermissions = (where: Template) =>
      Object.keys(where.findResources('AWS::Lambda::Permission', { Properties: { Principal: 'apigateway.amazonaws.com' } })).length;
    expect(apiPermissions(routeStack().nested)).toBe(handlerGroups.length);
    expect(apiPermissions(template)).toBe(1);
  });

  it('generates the cursor secret, and only the functions of list routes may read it, by ARN', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false },
    });
    const secretRef = { Ref: built.logicalId(built.stack.api.cursorSecret) };
    const listGroups = new Set(routeList.filter(takesCursor).map((route) => route.group));
    expect([...listGroups].sort()).toEqual([...built.stack.api.cursorReaders].sort());
    expect(listGroups).toContain('tokens');
    const resources = template.toJSON().Resources as Record<string, Resource>;
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Resource[];
    const readers = policies
      .filter((policy) => JSON.stringify(policy.Properties.PolicyDocument).includes(JSON.stringify(secretRef)))
      .flatMap((policy) => policy.Properties.Roles as { Ref: string }[])
      .map((role) => role.Ref);
    for (const [key, fn] of built.stack.functions) {
      const reads = key.startsWith('http:') && listGroups.has(key.slice('http:'.length) as never);
      const variables = (resources[built.logicalId(fn)]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(variables.CURSOR_SECRET_ARN, key).toEqual(reads ? secretRef : undefined);
      expect(readers.includes(built.logicalId(fn.role!)), key).toBe(reads);
    }
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: built.logicalId(built.stack.functions.get('http:tokens')!.role!) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], Resource: secretRef }),
        ]),
      },
    });
  });

  it('makes the credentials key (rotated): only the channels function seals; webhooks, provider jobs and outbound webhook deliveries only open', () => {
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const keyArn = { 'Fn::GetAtt': [built.logicalId(built.stack.credentialsKey), 'Arn'] };
    const resources = template.toJSON().Resources as Record<string, Resource>;
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Resource[];
    const kmsActions = (roleId: string) =>
      policies
        .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
        .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement)
        .flatMap((statement) => [statement.Action].flat())
        .filter((action) => action.startsWith('kms:'))
        .sort();
    const openers = new Set(['webhook:channel-hooks', 'job:deliver_message', 'job:fetch_media', 'http:inbox', 'job:deliver_webhook']);
    for (const [key, fn] of built.stack.functions) {
      const expected = key === 'http:channels' ? ['kms:Decrypt', 'kms:Encrypt'] : openers.has(key) ? ['kms:Decrypt'] : [];
      const variables = (resources[built.logicalId(fn)]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(variables.CREDENTIALS_KMS_KEY_ID, key).toEqual(expected.length > 0 ? keyArn : undefined);
      expect(kmsActions(built.logicalId(fn.role!)), key).toEqual(expected);
    }
  });

  it('serves the webhooks on a public Function URL whose address the channels function and the delivery job know', () => {
    const hooks = built.stack.functions.get('webhook:channel-hooks')!;
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      TargetFunctionArn: arnOf(built.logicalId(hooks)),
    });
    const resources = template.toJSON().Resources as Record<string, Resource>;
    const urlId = Object.entries(resources).find(([, resource]) => resource.Type === 'AWS::Lambda::Url')![0];
    for (const key of ['http:channels', 'http:inbox', 'job:deliver_message']) {
      const fn = built.stack.functions.get(key)!;
      const variables = (resources[built.logicalId(fn)]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(variables.HOOKS_BASE_URL, key).toEqual({ 'Fn::GetAtt': [urlId, 'FunctionUrl'] });
    }
  });

  it('sends channel mail with a configuration set whose events go to an SNS topic, and receives mail only when asked', () => {
    template.resourceCountIs('AWS::SES::ConfigurationSet', 1);
    template.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
      EventDestination: Match.objectLike({
        Enabled: true,
        MatchingEventTypes: Match.arrayWith(['send', 'delivery', 'open', 'click', 'bounce', 'complaint', 'reject']),
        SnsDestination: { TopicARN: { Ref: built.logicalId(built.stack.channels.mailEventsTopic) } },
      }),
    });
    for (const key of ['job:deliver_message', 'http:inbox']) {
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: built.logicalId(built.stack.functions.get(key)!.role!) }],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['ses:SendEmail', 'ses:SendRawEmail'] })]) },
      });
    }
    template.resourceCountIs('AWS::SES::ReceiptRuleSet', 0);

    const withInbound = synth({ inboundMailRecipients: ['reply.acme.example'] }).template;
    withInbound.hasResourceProperties('AWS::SES::ReceiptRule', {
      Rule: Match.objectLike({
        Recipients: ['reply.acme.example'],
        Actions: [Match.objectLike({ S3Action: Match.objectLike({ ObjectKeyPrefix: 'inbound-mail/' }) })],
      }),
    });
  });

  it('gives every function a log group with a one-month retention', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as Resource[];
    const logGroups = template.findResources('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 30 } });
    for (const fn of functions) {
      const config = fn.Properties.LoggingConfig as { LogGroup: { Ref: string } };
      expect(Object.keys(logGroups)).toContain(config.LogGroup.Ref);
    }
  });

  it('throttles the default stage', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 25, ThrottlingBurstLimit: 40 },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: Match.objectLike({
        AllowHeaders: Match.arrayWith(['authorization', 'idempotency-key', 'if-match']),
      }),
    });
  });

  it('logs every request as a JSON line (request id, route, status, latencies) into a log group with a retention', () => {
    const [stage] = Object.values(template.findResources('AWS::ApiGatewayV2::Stage')) as Resource[];
    const settings = stage!.Properties.AccessLogSettings as { DestinationArn: unknown; Format: string };
    expect(settings.DestinationArn).toEqual(arnOf(built.logicalId(built.stack.api.accessLogs)));
    const fields = JSON.parse(settings.Format) as Record<string, string>;
    expect(fields).toMatchObject({
      requestId: '$context.requestId',
      routeKey: '$context.routeKey',
      status: '$context.status',
      responseLatencyMs: '$context.responseLatency',
      integrationError: '$context.integrationErrorMessage',
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      RetentionInDays: 30,
      LogGroupName: Match.absent(),
    });
    expect(template.toJSON().Resources[built.logicalId(built.stack.api.accessLogs)].Properties.RetentionInDays).toBe(30);
  });

  it('keeps server access logs of the transfer bucket in a private, SSL-only bucket that expires them', () => {
    const logsId = built.logicalId(built.stack.data.accessLogsBucket);
    template.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: { DestinationBucketName: { Ref: logsId }, LogFilePrefix: 'transfer/' },
    });
    const logs = template.toJSON().Resources[logsId].Properties;
    expect(logs.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(logs.LifecycleConfiguration.Rules).toEqual([expect.objectContaining({ ExpirationInDays: 90, Status: 'Enabled' })]);
  });

  it('wakes snoozed conversations every minute, from a function that may write the table', () => {
    const wake = built.stack.schedules.scheduled.find((scheduled) => scheduled.definition.name === 'wake-snoozed');
    expect(wake?.definition.entry).toBe('functions/schedules/wake-snoozed.handler.ts');
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: arnOf(built.logicalId(wake!.fn)) })],
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: built.logicalId(wake!.fn.role!) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: Match.arrayWith(['dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem']) }),
        ]),
      },
    });
  });

  it('sweeps stalled jobs every 5 minutes, from a function that may query the table’s indexes and write it', () => {
    const sweep = built.stack.schedules.scheduled.find((scheduled) => scheduled.definition.name === 'sweep-jobs');
    expect(sweep?.definition.entry).toBe('functions/schedules/sweep-jobs.handler.ts');
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [Match.objectLike({ Arn: arnOf(built.logicalId(sweep!.fn)) })],
    });
    expectTableItems(sweep!.fn, 'readWrite');
  });

  it('hands out conversations waiting for an assignment rule every 5 minutes, from a function that may query the table’s indexes and write it', () => {
    const pass = built.stack.schedules.scheduled.find((scheduled) => scheduled.definition.name === 'assign-waiting');
    expect(pass?.definition.entry).toBe('functions/schedules/assign-waiting.handler.ts');
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [Match.objectLike({ Arn: arnOf(built.logicalId(pass!.fn)) })],
    });
    expectTableItems(pass!.fn, 'readWrite');
  });

  it('maps each stream reader to the table stream with its definition', () => {
    expect(built.stack.streams.readers).toHaveLength(streamReaders.length);
    const tableId = built.logicalId(built.stack.data.table);
    for (const { definition, fn, failureQueue } of built.stack.streams.readers) {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: built.logicalId(fn) },
        EventSourceArn: { 'Fn::GetAtt': [tableId, 'StreamArn'] },
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: definition.batchSize,
        MaximumBatchingWindowInSeconds: definition.maxBatchingWindowSeconds,
        BisectBatchOnFunctionError: definition.bisectBatchOnError,
        MaximumRetryAttempts: definition.retryAttempts,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        FilterCriteria: {
          Filters: definition.filterPatterns.map((pattern) => ({ Pattern: JSON.stringify(pattern) })),
        },
        DestinationConfig: { OnFailure: { Destination: arnOf(built.logicalId(failureQueue)) } },
      });
    }
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FilterCriteria: { Filters: [{ Pattern: Match.stringLikeRegexp('"INSERT"') }] },
    });
  });

  it('reads the table stream with at most two mappings, each within the filter limit and with an on-failure destination', () => {
    // DynamoDB throttles a shard read by more than two processes at once; Lambda allows five filters a mapping.
    const tableId = built.logicalId(built.stack.data.table);
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')).filter(
      (mapping) => JSON.stringify(mapping.Properties.EventSourceArn) === JSON.stringify({ 'Fn::GetAtt': [tableId, 'StreamArn'] }),
    );
    expect(mappings.length).toBeGreaterThan(0);
    expect(mappings.length).toBeLessThanOrEqual(maxStreamReaders);
    for (const { Properties: mapping } of mappings) {
      expect(mapping.FilterCriteria.Filters.length).toBeLessThanOrEqual(maxFiltersPerMapping);
      expect(mapping.DestinationConfig.OnFailure.Destination).toBeDefined();
    }
  });

  it('alarms on 5xx and on every failure queue', () => {
    // 5xx, each stream reader's failure queue and lag, each job queue's dead-letter queue, each job kind's
    // retries (those riding on another kind's queue too), failed schedule ticks, webhook errors.
    const jobKinds = jobQueues.flatMap((definition) => [definition.name, ...(definition.alsoRuns ?? [])]);
    expect(jobKinds).toContain('bot_reply');
    template.resourceCountIs(
      'AWS::CloudWatch::Alarm',
      1 + 2 * streamReaders.length + jobQueues.length + jobKinds.length + 1 + built.stack.channels.hooks.length,
    );
    for (const { fn } of built.stack.streams.readers) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'IteratorAge',
        Namespace: 'AWS/Lambda',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: built.logicalId(fn) } }],
        Threshold: 300_000,
      });
    }
    for (const kind of jobKinds) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'JobRuns',
        Namespace: 'CRM',
        Dimensions: Match.arrayWith([{ Name: 'kind', Value: kind }, { Name: 'outcome', Value: 'retried' }]),
      });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: '5xx',
      Namespace: 'AWS/ApiGateway',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('has a dashboard of the API, the business metrics (EMF searches in the CRM namespace), function errors and stream lag', () => {
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as Resource[];
    expect(dashboard!.Properties.DashboardName).toBe('crm-test');
    const body = JSON.stringify(dashboard!.Properties.DashboardBody);
    for (const metric of ['Requests', 'JobRuns', 'Deliveries']) {
      expect(body).toMatch(new RegExp(`SEARCH\\('\\{CRM,service,[a-zA-Z,]+\\} MetricName=\\W+${metric}\\W`));
    }
    expect(body).toContain('IteratorAge');
    expect(body).toContain('Errors');
  });

  it('builds every function as deployed: Node 24 on arm64, 1 GB, its kind\'s timeout, active tracing, JSON logs in its own log group kept 30 days, and an alarm that covers its failures', () => {
    const resources = template.toJSON().Resources as Record<string, Resource>;
    const alarms = JSON.stringify(template.findResources('AWS::CloudWatch::Alarm'));
    const timeouts: Record<string, number> = { http: 10, stream: 60, schedule: 300, webhook: 30 };
    const jobTimeouts = new Map(jobQueues.map((definition) => [`job:${definition.name}`, definition.timeoutSeconds]));
    expect(built.stack.functions.size).toBe(
      handlerGroups.length + streamReaders.length + jobQueues.length + 1 + built.stack.schedules.scheduled.length + built.stack.channels.hooks.length,
    );
    for (const [key, fn] of built.stack.functions) {
      const props = resources[built.logicalId(fn)]!.Properties as {
        Runtime: string;
        Architectures: string[];
        MemorySize: number;
        TracingConfig: unknown;
        Timeout: number;
        LoggingConfig: { LogFormat: string; LogGroup: { Ref: string } };
        DeadLetterConfig?: unknown;
      };
      const kind = key.split(':')[0]!;
      expect({ key, runtime: props.Runtime, architectures: props.Architectures, memory: props.MemorySize, tracing: props.TracingConfig }).toEqual({
        key,
        runtime: 'nodejs24.x',
        architectures: ['arm64'],
        memory: 1024,
        tracing: { Mode: 'Active' },
      });
      // Starting an .xls import parses the file in the imports function: it has the API's 29 s.
      if (key !== 'job:dead-letters') expect(props.Timeout, key).toBe(jobTimeouts.get(key) ?? (key === 'http:imports' ? 29 : timeouts[kind]));
      expect(props.LoggingConfig.LogFormat, key).toBe('JSON');
      const logGroup = resources[props.LoggingConfig.LogGroup.Ref]!;
      expect(logGroup.Properties.RetentionInDays, key).toBe(30);
      // What shows its failures: the API's 5xx, a queue it fails into, its own errors or lag.
      const covered =
        kind === 'http'
          ? alarms.includes('"MetricName":"5xx"')
          : kind === 'job'
            ? key === 'job:dead-letters' || alarms.includes(`{"Name":"kind","Value":"${key.slice(4)}"}`)
            : kind === 'schedule'
              ? JSON.stringify(props.DeadLetterConfig).includes(built.logicalId(built.stack.schedules.failedTicks))
              : alarms.includes(`{"Name":"FunctionName","Value":{"Ref":"${built.logicalId(fn)}"}}`);
      expect(covered, key).toBe(true);
    }
  });

  it('keeps a schedule tick that failed every retry: the rule target and the function (an asynchronous invocation) both have the failed-ticks queue', () => {
    const failedTicks = arnOf(built.logicalId(built.stack.schedules.failedTicks));
    for (const { fn, rule } of built.stack.schedules.scheduled) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Role: arnOf(built.logicalId(fn.role!)),
        DeadLetterConfig: { TargetArn: failedTicks },
      });
      const [target] = (template.toJSON().Resources[built.logicalId(rule)].Properties.Targets as Record<string, unknown>[]);
      expect(target!.DeadLetterConfig).toEqual({ Arn: failedTicks });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [built.logicalId(built.stack.schedules.failedTicks), 'QueueName'] } }],
    });
  });

  it('grants no wildcard actions, and * resources only where AWS allows nothing narrower', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Resource[];
    expect(policies.length).toBeGreaterThan(0);
    const asList = (value: unknown) => (Array.isArray(value) ? value : [value]);
    for (const policy of policies) {
      const statements = (policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] })
        .Statement;
      for (const statement of statements) {
        const actions = asList(statement.Action) as string[];
        expect(actions.filter((action) => action === '*' || action.endsWith(':*'))).toEqual([]);
        // ListStreams and the X-Ray trace uploads take no resource: AWS allows only `*` there.
        if (asList(statement.Resource).includes('*')) {
          expect(actions.filter((action) => !['dynamodb:ListStreams', 'xray:PutTraceSegments', 'xray:PutTelemetryRecords'].includes(action))).toEqual([]);
        }
        // No function reads the whole table (Scan) or every index at once.
        expect(actions).not.toContain('dynamodb:Scan');
        expect(JSON.stringify(statement.Resource)).not.toContain('/index/*');
      }
    }
    template.hasOutput('ApiUrl', {});
    template.hasOutput('TableName', {});
    template.hasOutput('BucketName', {});
  });

  it('scopes S3 per function: attachments/ to the attachments function (reads to the inbox), uploads/ and exports/ to imports and jobs, nothing to the rest', () => {
    const resources = template.toJSON().Resources as Record<string, Resource>;
    /** The object key patterns a group's function may put and read. */
    const s3Grants = (group: string) => {
      const role = (resources[httpFunctionId(group)]!.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const statements = Object.values(resources)
        .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(role))
        .flatMap((r) => (r.Properties.PolicyDocument as { Statement: { Action: string[]; Resource: unknown }[] }).Statement);
      const keys = (action: string) =>
        statements
          .filter((statement) => [statement.Action].flat().includes(action))
          .flatMap((statement) => JSON.stringify(statement.Resource).match(/"\/[^"]*"/g) ?? [])
          .map((suffix) => suffix.slice(2, -1))
          .sort();
      return { put: keys('s3:PutObject'), read: keys('s3:GetObject') };
    };

    expect(s3Grants('attachments')).toEqual({ put: ['attachments/*'], read: ['attachments/*'] });
    expect(s3Grants('inbox')).toEqual({ put: [], read: ['attachments/*'] });
    expect(s3Grants('imports')).toEqual({ put: ['uploads/*'], read: ['uploads/*'] });
    expect(s3Grants('jobs')).toEqual({ put: [], read: ['exports/*', 'uploads/*'] });
    // Every other group: no object of the bucket at all.
    for (const group of ['contacts', 'deals', 'users', 'events', 'channels', 'segments', 'tags', 'metrics']) expect(s3Grants(group), group).toEqual({ put: [], read: [] });
  });

  it('reaches the bucket from the import and export jobs only: the import reads uploads/ and writes its report to exports/; the export alone may delete', () => {
    const objectAccess = (key: string) => {
      const access: Record<string, string[]> = {};
      for (const statement of statementsOfRole(built.stack.functions.get(key)!)) {
        for (const prefix of JSON.stringify(statement.Resource).match(/"\/[^"]*"/g) ?? []) {
          const actions = [statement.Action].flat().filter((action) => action.startsWith('s3:'));
          if (actions.length > 0) access[prefix.slice(2, -1)] = actions.sort();
        }
      }
      return access;
    };
    expect(objectAccess('job:import_contacts')).toEqual({
      'uploads/*': ['s3:GetObject'],
      'exports/*': ['s3:AbortMultipartUpload', 's3:PutObject'],
    });
    expect(objectAccess('job:export_contacts')).toEqual({
      'exports/*': ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject'],
    });
    for (const key of ['job:segment_membership', 'job:apply_fit_rules', 'job:classify_conversation', 'job:deliver_webhook']) {
      expect(objectAccess(key), key).toEqual({});
    }
  });

  it('gives every function with the table its items and named indexes only; the meta function (docs, OpenAPI) none', () => {
    for (const [key, fn] of built.stack.functions) {
      if (key === 'http:meta') continue;
      expectTableItems(fn, 'readWrite');
    }
    expect(JSON.stringify(statementsOfRole(built.stack.functions.get('http:meta')!))).not.toContain('dynamodb:');
  });

  it('sends the bot’s `bot_reply` jobs to the model-call queue: the job dispatcher may send there, its function reads it', () => {
    const classify = built.stack.jobs.queues.find(({ definition }) => definition.name === 'classify_conversation')!;
    expect(classify.definition.alsoRuns).toContain('bot_reply');
    // The fan-out writes the job; `job-dispatch` (the record-changes reader) sends its message.
    const dispatcher = built.stack.functions.get('stream:record-changes')!;
    const sentTo = statementsOfRole(dispatcher)
      .filter((statement) => [statement.Action].flat().includes('sqs:SendMessage'))
      .flatMap((statement) => [statement.Resource].flat().map((resource) => JSON.stringify(resource)));
    expect(sentTo).toContain(JSON.stringify(arnOf(built.logicalId(classify.queue))));
    const dispatcherResource = template.toJSON().Resources[built.logicalId(dispatcher)] as Resource;
    expect(JSON.stringify(dispatcherResource.Properties.Environment)).toContain('QUEUE_URL_CLASSIFY_CONVERSATION');
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arnOf(built.logicalId(classify.queue)),
      FunctionName: { Ref: built.logicalId(classify.fn) },
    });
  });

  it('gives SES permissions only to the channel senders (the delivery job and the inbox, for a retry)', () => {
    const withSes = (Object.values(template.findResources('AWS::IAM::Policy')) as Resource[])
      .filter((policy) => JSON.stringify(policy).includes('ses:'))
      .flatMap((policy) => (policy.Properties.Roles as { Ref: string }[]).map((role) => role.Ref))
      .sort();
    const senders = ['job:deliver_message', 'http:inbox'].map((key) => built.logicalId(built.stack.functions.get(key)!.role!)).sort();
    expect(withSes).toEqual(senders);
  });
});

describe('CrmStack and the qualifier model', () => {
  const statementsOf = (built: ReturnType<typeof synth>, key: string) => {
    const role = built.logicalId(built.stack.functions.get(key)!.role!);
    return (Object.values(built.template.findResources('AWS::IAM::Policy')) as Resource[])
      .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(role))
      .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }).Statement);
  };
  const bedrockGrants = (built: ReturnType<typeof synth>) =>
    (Object.values(built.template.findResources('AWS::IAM::Policy')) as Resource[]).filter((policy) => JSON.stringify(policy).includes('bedrock:'));

  it('without one, no function may call Bedrock and the classify job uses the local rules', () => {
    const built = synth();
    expect(bedrockGrants(built)).toEqual([]);
    const fn = built.template.toJSON().Resources[built.logicalId(built.stack.functions.get('job:classify_conversation')!)] as Resource;
    expect(JSON.stringify(fn.Properties.Environment)).not.toContain('QUALIFIER_MODEL_ID');
  });

  it('with a foundation model, only the classify job may invoke it, and knows its id', () => {
    const modelId = 'anthropic.claude-3-haiku-20240307-v1:0';
    const built = synth({ qualifierModelId: modelId });
    expect(bedrockGrants(built)).toHaveLength(1);
    const invoke = statementsOf(built, 'job:classify_conversation').filter((statement) => statement.Action === 'bedrock:InvokeModel');
    expect(invoke).toHaveLength(1);
    expect(invoke[0]!.Resource).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':bedrock:', { Ref: 'AWS::Region' }, `::foundation-model/${modelId}`]],
    });
    built.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Job consumer: classify_conversation',
      Environment: { Variables: Match.objectLike({ QUALIFIER_MODEL_ID: modelId }) },
    });
  });

  it('with a responder model, only the queue that runs the bot’s jobs may invoke it, and knows its id; never the event fan-out', () => {
    const modelId = 'anthropic.claude-3-haiku-20240307-v1:0';
    const built = synth({ responderModelId: modelId });
    expect(bedrockGrants(built)).toHaveLength(1);
    const invoke = statementsOf(built, 'job:classify_conversation').filter((statement) => statement.Action === 'bedrock:InvokeModel');
    expect(invoke).toHaveLength(1);
    expect(invoke[0]!.Resource).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':bedrock:', { Ref: 'AWS::Region' }, `::foundation-model/${modelId}`]],
    });
    built.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Job consumer: classify_conversation',
      Environment: { Variables: Match.objectLike({ RESPONDER_MODEL_ID: modelId }) },
    });
    // The fan-out only queues the bot's jobs: no model, no model id.
    const fanout = built.stack.functions.get('stream:event-fanout')!;
    expect(JSON.stringify(statementsOf(built, 'stream:event-fanout'))).not.toContain('bedrock:');
    const fanoutResource = built.template.toJSON().Resources[built.logicalId(fanout)] as Resource;
    expect(JSON.stringify(fanoutResource.Properties.Environment)).not.toContain('RESPONDER_MODEL_ID');
  });

  it('with both models, the classify queue’s function may invoke each of them and nothing else may', () => {
    const qualifier = 'anthropic.claude-3-haiku-20240307-v1:0';
    const responder = 'anthropic.claude-haiku-4-5-20251001-v1:0';
    const built = synth({ qualifierModelId: qualifier, responderModelId: responder });
    const withBedrock = bedrockGrants(built).flatMap((policy) => (policy.Properties.Roles as { Ref: string }[]).map((role) => role.Ref));
    expect(withBedrock).toEqual([built.logicalId(built.stack.functions.get('job:classify_conversation')!.role!)]);
    // CDK merges the two grants into one statement: its resources are the two models, nothing more.
    const resources = statementsOf(built, 'job:classify_conversation')
      .filter((statement) => statement.Action === 'bedrock:InvokeModel')
      .flatMap((statement) => [statement.Resource].flat().map((resource) => JSON.stringify(resource)));
    expect(resources).toHaveLength(2);
    expect(resources.some((resource) => resource.includes(`foundation-model/${qualifier}`))).toBe(true);
    expect(resources.some((resource) => resource.includes(`foundation-model/${responder}`))).toBe(true);
  });

  it('with an inference profile, the profile and the model it routes to, in any region', () => {
    const built = synth({ qualifierModelId: 'eu.anthropic.claude-3-haiku-20240307-v1:0' });
    const [invoke] = statementsOf(built, 'job:classify_conversation').filter((statement) => statement.Action === 'bedrock:InvokeModel');
    const resources = JSON.stringify(invoke!.Resource);
    expect(resources).toContain(':inference-profile/eu.anthropic.claude-3-haiku-20240307-v1:0');
    expect(resources).toContain(':bedrock:*::foundation-model/anthropic.claude-3-haiku-20240307-v1:0');
  });
});

describe('CrmStack with job queues and schedules', () => {
  // Any existing module serves as the entry: bundling is skipped.
  const sampleJob: JobQueueDefinition = {
    name: 'sample_job',
    entry: 'functions/http/meta.handler.ts',
    batchSize: 5,
    visibilityTimeoutSeconds: 180,
    maxReceiveCount: 4,
    timeoutSeconds: 30,
  };
  const sampleSchedule: ScheduleDefinition = {
    name: 'sample-recompute',
    entry: 'functions/http/meta.handler.ts',
    rateMinutes: 15,
  };
  let built: ReturnType<typeof synth>;
  let template: Template;
  beforeAll(() => {
    built = synth({
      jobQueues: [sampleJob],
      schedules: [sampleSchedule],
      mailFromIdentity: 'mail.example.com',
      mailSenders: ['job:sample_job'],
    });
    template = built.template;
  });

  it('builds a queue with a dead-letter queue and a mapping that reports item failures', () => {
    const [job] = built.stack.jobs.queues;
    const queueId = built.logicalId(job!.queue);
    const dlqId = built.logicalId(job!.deadLetterQueue);
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 180,
      RedrivePolicy: { deadLetterTargetArn: arnOf(dlqId), maxReceiveCount: 4 },
    });
    expect(template.toJSON().Resources[dlqId]).toMatchObject({
      Type: 'AWS::SQS::Queue',
      Properties: { MessageRetentionPeriod: 14 * 24 * 3600 },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arnOf(queueId),
      FunctionName: { Ref: built.logicalId(job!.fn) },
      BatchSize: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Job consumer: sample_job',
      Timeout: 30,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
    });
  });

  it('reads every dead-letter queue with one function that may write the table', () => {
    const [job] = built.stack.jobs.queues;
    const deadLetters = built.stack.functions.get('job:dead-letters')!;
    expect(deadLetters).toBe(built.stack.jobs.deadLetterFunction);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arnOf(built.logicalId(job!.deadLetterQueue)),
      FunctionName: { Ref: built.logicalId(deadLetters) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Job dead letters'),
      Timeout: 30,
    });
    // An event source's visibility timeout must cover its function's timeout.
    expect(template.toJSON().Resources[built.logicalId(job!.deadLetterQueue)].Properties.VisibilityTimeout).toBe(30);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: built.logicalId(deadLetters.role!) }],
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['dynamodb:PutItem']) })]),
      },
    });
  });

  it('lets functions enqueue jobs: queue URL variable and send permission', () => {
    const [job] = built.stack.jobs.queues;
    const queueId = built.logicalId(job!.queue);
    const users = built.stack.functions.get('http:users')!;
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'HTTP API: users routes',
      Environment: { Variables: Match.objectLike({ QUEUE_URL_SAMPLE_JOB: { Ref: queueId } }) },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: built.logicalId(users.role!) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: Match.arrayWith(['sqs:SendMessage']), Resource: arnOf(queueId) }),
        ]),
      },
    });
  });

  it('schedules its function at the given rate', () => {
    const [scheduled] = built.stack.schedules.scheduled;
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: arnOf(built.logicalId(scheduled!.fn)) })],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 'events.amazonaws.com',
      FunctionName: arnOf(built.logicalId(scheduled!.fn)),
    });
  });

  it('lets only the named senders send mail, from the identity only', () => {
    const [job] = built.stack.jobs.queues;
    const withSes = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
      JSON.stringify(policy).includes(':identity/mail.example.com'),
    ) as Resource[];
    expect(withSes).toHaveLength(1);
    expect(withSes[0]!.Properties.Roles).toEqual([{ Ref: built.logicalId(job!.fn.role!) }]);
    expect(JSON.stringify(withSes[0])).toContain(':identity/mail.example.com');
  });

  it('refuses a job name that does not round-trip through QUEUE_URL_<NAME>', () => {
    expect(() => synth({ jobQueues: [{ ...sampleJob, name: 'Bad-Name' }] })).toThrow(/snake_case/);
  });
});
