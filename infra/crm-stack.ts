import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import { attachmentsKeyPrefix } from '../domain/inbox/attachment.entity';
import { queueOfKind, type JobQueueDefinition } from '../functions/jobs/job-queues';
import type { ScheduleDefinition } from '../functions/schedules/schedules';
import type { StreamReaderDefinition } from '../functions/streams/stream-consumers';
import { Api } from './constructs/api';
import { Channels } from './constructs/channels';
import { Data, grantBucketObjects, grantTableItems, type ObjectAccess, transferPrefixes } from './constructs/data';
import { Jobs } from './constructs/jobs';
import type { FunctionSettings } from './constructs/lambda-function';
import { logRetention, Observability } from './constructs/observability';
import { Schedules } from './constructs/schedules';
import { Streams } from './constructs/streams';
import { acknowledgedRules, acknowledgeFinding, acknowledgeFindings, findingResource } from './nag';

export interface CrmStackProps extends StackProps {
  /** @default 'dev' */
  stage?: string;
  /** Default-stage throttling of the HTTP API. @default 50 requests/s, burst 100 */
  throttle?: { rateLimit: number; burstLimit: number };
  /** Browser origins for the API and for presigned S3 URLs. @default ['*'] (bearer tokens, no cookies) */
  corsAllowedOrigins?: string[];
  /** @default 'INFO' */
  logLevel?: string;
  /** SES identity (domain or address) the app sends from; no function may send mail without it. */
  mailFromIdentity?: string;
  /** The From address. @default mailFromIdentity when it is an address */
  mailFrom?: string;
  /**
   * Functions allowed to send mail from mailFromIdentity, by key: `http:<group>`, `stream:<name>`,
   * `job:<name>`, `schedule:<name>`. None yet: channels bring the first.
   */
  mailSenders?: string[];
  alarmEmail?: string;
  /**
   * Receive channel mail through SES for these domains or addresses (an SES receipt rule storing mail in
   * the bucket and notifying a topic; its activation and MX record are the deployer's). @default none
   */
  inboundMailRecipients?: string[];
  /**
   * The Amazon Bedrock model (or cross-region inference profile) that classifies conversations: the
   * classify job gets QUALIFIER_MODEL_ID and `bedrock:InvokeModel` on it. @default none: the local rules
   */
  qualifierModelId?: string;
  /**
   * The Amazon Bedrock model (or inference profile) the autoreply bot reads messages with: the function
   * of the queue that runs `bot_reply` jobs (`classify_conversation`'s) gets RESPONDER_MODEL_ID and
   * `bedrock:InvokeModel` on it. @default none: the local rules
   */
  responderModelId?: string;
  /** The definition tables are read from functions/ unless given here (tests pass samples). */
  jobQueues?: readonly JobQueueDefinition[];
  schedules?: readonly ScheduleDefinition[];
  streamReaders?: readonly StreamReaderDefinition[];
}

/** The bucket prefixes each HTTP route group's function may put and read; the other groups none. */
const bucketReach: Record<string, Record<string, ObjectAccess>> = {
  // Message attachments: presigned PUTs in, HEAD checks and presigned GETs out.
  attachments: { [attachmentsKeyPrefix]: { put: true, read: true } },
  // Sending a message checks (HEAD) that the files it names were uploaded.
  inbox: { [attachmentsKeyPrefix]: { read: true } },
  // An import's presigned upload, and its header read before the job starts.
  imports: { [transferPrefixes.uploads]: { put: true, read: true } },
  // A job's file links (HEAD, presigned GET): its exports and reports, and the upload it was given.
  jobs: { [transferPrefixes.exports]: { read: true }, [transferPrefixes.uploads]: { read: true } },
};

/** The whole CRM backend in one stack. */
export class CrmStack extends Stack {
  /**
   * Every function of the app by key: `http:<group>`, `stream:<name>`, `job:<name>` (and
   * `job:dead-letters`), `schedule:<name>`, `webhook:<name>`.
   */
  readonly functions: ReadonlyMap<string, NodejsFunction>;
  readonly data: Data;
  readonly api: Api;
  /** Channel credentials are sealed with this key (KMS Encrypt/Decrypt, the workspace and connection as encryption context). */
  readonly credentialsKey: Key;
  readonly streams: Streams;
  readonly jobs: Jobs;
  /** Webhook functions (Function URLs), the SES configuration set of channel mail and its topics. */
  readonly channels: Channels;
  readonly schedules: Schedules;
  /** The alarms, their topic and the dashboard. */
  readonly observability: Observability;

  constructor(scope: Construct, id: string, props: CrmStackProps = {}) {
    super(scope, id, props);
    const stage = props.stage ?? 'dev';
    const corsAllowedOrigins = props.corsAllowedOrigins ?? ['*'];

    this.data = new Data(this, 'Data', { corsAllowedOrigins, deletionProtection: stage === 'prod' });
    const { table, bucket } = this.data;

    const settings: FunctionSettings = {
      environment: {
        TABLE_NAME: table.tableName,
        BUCKET_NAME: bucket.bucketName,
        POWERTOOLS_SERVICE_NAME: 'crm',
        LOG_LEVEL: props.logLevel ?? 'INFO',
      },
      logRetention,
    };

    const api = new Api(this, 'Api', {
      settings,
      throttle: props.throttle ?? { rateLimit: 50, burstLimit: 100 },
      corsAllowedOrigins,
    });
    this.api = api;
    this.credentialsKey = new Key(this, 'CredentialsKey', {
      description: 'CRM: seals channel credentials (access tokens, app secrets, auth tokens)',
      enableKeyRotation: true,
    });
    for (const [group, fn] of api.functions) {
      // The docs and the OpenAPI document are static: the meta function reads nothing.
      if (group !== 'meta') grantTableItems(fn, table, 'readWrite');
      if (group === 'channels') {
        // Seals credentials when a connection is made or changed, and webhooks' signing secrets; no files.
        fn.addToRolePolicy(
          new PolicyStatement({ actions: ['kms:Encrypt', 'kms:Decrypt'], resources: [this.credentialsKey.keyArn] }),
        );
        fn.addEnvironment('CREDENTIALS_KMS_KEY_ID', this.credentialsKey.keyArn);
        continue;
      }
      // Only the groups that presign or check files reach the bucket, each its own prefixes (presigned
      // URLs are signed with the function's role, so a PUT URL needs s3:PutObject, a GET URL s3:GetObject).
      for (const [prefix, access] of Object.entries(bucketReach[group] ?? {})) grantBucketObjects(fn, bucket, prefix, access);
    }

    const channels = new Channels(this, 'Channels', {
      table,
      bucket,
      settings,
      credentialsKey: this.credentialsKey,
      inboundMailRecipients: props.inboundMailRecipients,
    });
    this.channels = channels;
    const hooksBaseUrl = channels.hooksUrl;
    if (hooksBaseUrl) api.functions.get('channels')?.addEnvironment('HOOKS_BASE_URL', hooksBaseUrl);

    const streams = new Streams(this, 'Streams', { table, settings, readers: props.streamReaders });
    const jobs = new Jobs(this, 'Jobs', { table, bucket, settings, definitions: props.jobQueues });
    const scheduled = new Schedules(this, 'Schedules', { table, settings, definitions: props.schedules });
    this.streams = streams;
    this.jobs = jobs;
    this.schedules = scheduled;

    const functions = new Map<string, NodejsFunction>();
    for (const [group, fn] of api.functions) functions.set(`http:${group}`, fn);
    for (const { definition, fn } of streams.readers) functions.set(`stream:${definition.name}`, fn);
    for (const { definition, fn } of jobs.queues) functions.set(`job:${definition.name}`, fn);
    // Queue names are snake_case: this key cannot be a queue's.
    if (jobs.deadLetterFunction) functions.set('job:dead-letters', jobs.deadLetterFunction);
    for (const { definition, fn } of scheduled.scheduled) functions.set(`schedule:${definition.name}`, fn);
    for (const { definition, fn } of channels.hooks) functions.set(`webhook:${definition.name}`, fn);
    this.functions = functions;
    this.grantChannelSenders(hooksBaseUrl);
    // Outbound webhooks: each attempt opens the subscription's signing secrets.
    const deliverWebhook = functions.get('job:deliver_webhook');
    if (deliverWebhook) {
      deliverWebhook.addToRolePolicy(new PolicyStatement({ actions: ['kms:Decrypt'], resources: [this.credentialsKey.keyArn] }));
      deliverWebhook.addEnvironment('CREDENTIALS_KMS_KEY_ID', this.credentialsKey.keyArn);
    }

    // Any part of the app may start background work (a job continues itself from a saved cursor).
    for (const fn of functions.values()) jobs.grantSend(fn);

    this.grantMail(props);
    if (props.qualifierModelId) this.grantModel('job:classify_conversation', 'QUALIFIER_MODEL_ID', props.qualifierModelId);
    // The bot's model is called by its `bot_reply` jobs, never by the event fan-out (which only queues them).
    if (props.responderModelId) this.grantModel(`job:${queueOfKind('bot_reply')}`, 'RESPONDER_MODEL_ID', props.responderModelId);

    this.observability = new Observability(this, 'Observability', {
      httpApi: api.httpApi,
      deadLetterQueues: [
        ...jobs.queues.map(({ definition, deadLetterQueue }) => ({
          name: `Job-${definition.name}`,
          queue: deadLetterQueue,
        })),
        ...streams.readers.map(({ definition, failureQueue }) => ({
          name: `Stream-${definition.name}`,
          queue: failureQueue,
        })),
        { name: 'Schedule-failed-ticks', queue: scheduled.failedTicks },
      ],
      alarmEmail: props.alarmEmail,
      functions,
      streamReaders: streams.readers.map(({ fn }) => fn),
      errorAlarmFunctions: channels.hooks.map(({ fn }) => fn),
      // The kinds riding on another's queue too: a throttled model retries `bot_reply` runs, not the queue's own.
      jobKinds: jobs.queues.flatMap(({ definition }) => [definition.name, ...(definition.alsoRuns ?? [])]),
      dashboardName: `crm-${stage}`,
    });

    acknowledgeFindings(this);

    new CfnOutput(this, 'ApiUrl', { value: api.url });
    new CfnOutput(this, 'TableName', { value: table.tableName });
    new CfnOutput(this, 'BucketName', { value: bucket.bucketName });
    if (hooksBaseUrl) new CfnOutput(this, 'HooksUrl', { value: hooksBaseUrl });
    new CfnOutput(this, 'MailEventsTopicArn', { value: channels.mailEventsTopic.topicArn });
    new CfnOutput(this, 'MailConfigurationSet', { value: channels.configurationSet.configurationSetName });
    if (channels.inboundMailTopic) new CfnOutput(this, 'InboundMailTopicArn', { value: channels.inboundMailTopic.topicArn });
  }

  /**
   * What talks to providers: `deliver_message` (and the inbox function, whose retry route makes the
   * provider call itself) opens a connection's credentials, sends channel mail through SES with the
   * configuration set (any identity: connections name their own), hands attachments to providers as
   * short-lived links and tells Twilio where status callbacks go; `fetch_media` opens credentials and
   * stores what it fetched as attachments.
   */
  private grantChannelSenders(hooksBaseUrl: string | undefined): void {
    const decrypt = new PolicyStatement({ actions: ['kms:Decrypt'], resources: [this.credentialsKey.keyArn] });
    const configurationSet = this.channels.configurationSet.configurationSetName;
    const anyIdentity = this.formatArn({ service: 'ses', resource: 'identity', resourceName: '*' });
    const sendMail = new PolicyStatement({
      actions: ['ses:SendEmail', 'ses:SendRawEmail'],
      resources: [
        anyIdentity,
        this.formatArn({ service: 'ses', resource: 'configuration-set', resourceName: configurationSet }),
      ],
    });
    for (const key of ['job:deliver_message', 'http:inbox', 'job:fetch_media']) {
      const fn = this.functions.get(key);
      if (!fn) continue;
      fn.addToRolePolicy(decrypt);
      fn.addEnvironment('CREDENTIALS_KMS_KEY_ID', this.credentialsKey.keyArn);
      if (key === 'job:fetch_media') {
        grantBucketObjects(fn, this.data.bucket, attachmentsKeyPrefix, { put: true });
        continue;
      }
      fn.addToRolePolicy(sendMail);
      acknowledgeFinding(fn.role!, acknowledgedRules.sesIdentities, findingResource(this, anyIdentity));
      fn.addEnvironment('SES_CONFIGURATION_SET', configurationSet);
      grantBucketObjects(fn, this.data.bucket, attachmentsKeyPrefix, { read: true });
      if (hooksBaseUrl) fn.addEnvironment('HOOKS_BASE_URL', hooksBaseUrl);
    }
  }

  /**
   * The classify queue's function (the qualifier, and the bot's responder in `bot_reply` jobs) calls
   * Bedrock's Converse API (`bedrock:InvokeModel`) on the configured models only: a foundation model in
   * the stack's region, or an inference profile (`us.`, `eu.`, ... ids) and the foundation model it
   * routes to in whichever region it picks.
   */
  private grantModel(functionKey: string, variable: string, modelId: string): void {
    const fn = this.functions.get(functionKey);
    if (!fn) throw new Error(`${variable} is set, but the stack has no ${functionKey} function`);
    const profile = /^(us|eu|apac|jp|au|ca|us-gov|global)\.(.+)$/.exec(modelId);
    const foundationModel = (id: string, region?: string) =>
      this.formatArn({ service: 'bedrock', resource: 'foundation-model', resourceName: id, account: '', ...(region ? { region } : {}) });
    const resources = modelId.startsWith('arn:')
      ? [modelId]
      : profile
        ? [this.formatArn({ service: 'bedrock', resource: 'inference-profile', resourceName: modelId }), foundationModel(profile[2]!, '*')]
        : [foundationModel(modelId)];
    fn.addToRolePolicy(new PolicyStatement({ actions: ['bedrock:InvokeModel'], resources }));
    if (profile) acknowledgeFinding(fn.role!, acknowledgedRules.modelInAnyRegion, findingResource(this, resources[1]!));
    fn.addEnvironment(variable, modelId);
  }

  private grantMail(props: CrmStackProps): void {
    const senders = props.mailSenders ?? [];
    for (const key of senders) {
      if (!this.functions.has(key))
        throw new Error(`mailSenders names "${key}", which is no function of this stack`);
    }
    if (!props.mailFromIdentity) return;
    const mailFrom =
      props.mailFrom ?? (props.mailFromIdentity.includes('@') ? props.mailFromIdentity : undefined);
    const identityArn = this.formatArn({
      service: 'ses',
      resource: 'identity',
      resourceName: props.mailFromIdentity,
    });
    for (const key of senders) {
      const fn = this.functions.get(key)!;
      fn.addToRolePolicy(
        new PolicyStatement({ actions: ['ses:SendEmail', 'ses:SendRawEmail'], resources: [identityArn] }),
      );
      if (mailFrom) fn.addEnvironment('MAIL_FROM', mailFrom);
    }
  }
}
