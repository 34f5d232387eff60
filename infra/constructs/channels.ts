import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { FunctionUrlAuthType, type FunctionUrl } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { ConfigurationSet, EmailSendingEvent, EventDestination, ReceiptRuleSet } from 'aws-cdk-lib/aws-ses';
import { S3 as S3ReceiptAction } from 'aws-cdk-lib/aws-ses-actions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { webhooks, type WebhookDefinition } from '../../functions/webhooks/webhooks';
import { attachmentsKeyPrefix } from '../../domain/inbox/attachment.entity';
import { grantBucketObjects, grantTableItems } from './data';
import { createAppFunction, pascalCase, type FunctionSettings } from './lambda-function';

/** Where SES's receipt rule writes inbound mail in the bucket; the webhook function reads it from there. */
export const inboundMailPrefix = 'inbound-mail/';

export interface ChannelsProps {
  table: ITable;
  bucket: IBucket;
  settings: FunctionSettings;
  /** The key channel credentials are sealed with: the webhooks open them (Decrypt only). */
  credentialsKey: IKey;
  /** @default the definitions of functions/webhooks/webhooks.ts */
  definitions?: readonly WebhookDefinition[];
  /**
   * Receive mail for this domain (or these addresses) through SES: a receipt rule set whose rule stores
   * each mail under `inbound-mail/` and notifies the inbound-mail topic. Its MX record and the rule set's
   * activation are the deployer's (one active rule set per account and region). @default none
   */
  inboundMailRecipients?: string[];
}

/**
 * The channels' AWS side: each webhook function with its public Function URL (providers sign what they
 * post; the function checks), the SES configuration set channel mail is sent with, whose events (send,
 * delivery, open, click, bounce, complaint, reject, delay, rendering failure) go to an SNS topic, and,
 * when asked, an SES receipt rule for inbound mail. SNS delivers to `<hooks URL>/hooks/ses/<connectionId>`
 * once that HTTPS subscription is made (the function confirms it): see the README.
 */
export class Channels extends Construct {
  readonly hooks: { definition: WebhookDefinition; fn: NodejsFunction; url: FunctionUrl }[] = [];
  readonly configurationSet: ConfigurationSet;
  /** SES sending events of channel mail. */
  readonly mailEventsTopic: Topic;
  /** SES receipt notifications of inbound mail; only with `inboundMailRecipients`. */
  readonly inboundMailTopic?: Topic;
  readonly receiptRuleSet?: ReceiptRuleSet;

  constructor(scope: Construct, id: string, props: ChannelsProps) {
    super(scope, id);
    for (const definition of props.definitions ?? webhooks) {
      const fn = createAppFunction(this, `${pascalCase(definition.name)}Function`, {
        entry: definition.entry,
        settings: props.settings,
        timeout: Duration.seconds(30),
        description: `Webhooks: ${definition.name} (/hooks/...)`,
      });
      grantTableItems(fn, props.table, 'readWrite');
      fn.addToRolePolicy(new PolicyStatement({ actions: ['kms:Decrypt'], resources: [props.credentialsKey.keyArn] }));
      fn.addEnvironment('CREDENTIALS_KMS_KEY_ID', props.credentialsKey.keyArn);
      grantBucketObjects(fn, props.bucket, inboundMailPrefix, { read: true });
      // An inbound mail's files are kept as its message's attachments while the mail is in hand.
      grantBucketObjects(fn, props.bucket, attachmentsKeyPrefix, { put: true });
      // Providers call without AWS credentials: the function verifies each provider's signature itself.
      const url = fn.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });
      this.hooks.push({ definition, fn, url });
    }

    this.mailEventsTopic = new Topic(this, 'MailEventsTopic', {
      displayName: 'CRM channel mail events (SES)',
      enforceSSL: true,
    });
    this.configurationSet = new ConfigurationSet(this, 'MailConfigurationSet', {});
    this.configurationSet.addEventDestination('ToSns', {
      destination: EventDestination.snsTopic(this.mailEventsTopic),
      events: [
        EmailSendingEvent.SEND,
        EmailSendingEvent.DELIVERY,
        EmailSendingEvent.OPEN,
        EmailSendingEvent.CLICK,
        EmailSendingEvent.BOUNCE,
        EmailSendingEvent.COMPLAINT,
        EmailSendingEvent.REJECT,
        EmailSendingEvent.DELIVERY_DELAY,
        EmailSendingEvent.RENDERING_FAILURE,
      ],
    });

    if (props.inboundMailRecipients?.length) {
      this.inboundMailTopic = new Topic(this, 'InboundMailTopic', {
        displayName: 'CRM inbound mail (SES receipt)',
        enforceSSL: true,
      });
      this.receiptRuleSet = new ReceiptRuleSet(this, 'InboundMailRules', {
        rules: [
          {
            recipients: props.inboundMailRecipients,
            scanEnabled: true,
            actions: [
              new S3ReceiptAction({ bucket: props.bucket, objectKeyPrefix: inboundMailPrefix, topic: this.inboundMailTopic }),
            ],
          },
        ],
      });
    }
  }

  /** The webhooks' public base URL (the first webhook function's Function URL, with its trailing slash). */
  get hooksUrl(): string | undefined {
    return this.hooks[0]?.url.url;
  }
}
