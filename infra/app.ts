import { App, Tags } from 'aws-cdk-lib';
import { CrmStack } from './crm-stack';
import { applyRulePacks } from './nag';

const app = new App();
applyRulePacks(app);

const context = (key: string): unknown => app.node.tryGetContext(key);
/** `-c key=value` arrives as a string, cdk.json as JSON: accept both. */
const numberContext = (key: string, fallback: number): number => {
  const value = context(key);
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0)
    throw new Error(`Context ${key} must be a non-negative number, not ${String(value)}`);
  return parsed;
};
const stringContext = (key: string): string | undefined => {
  const value = context(key);
  return value === undefined || value === '' ? undefined : String(value);
};
const listContext = (key: string): string[] | undefined => {
  const value = context(key);
  if (value === undefined) return undefined;
  return Array.isArray(value)
    ? value.map(String)
    : String(value)
        .split(',')
        .map((item) => item.trim());
};

const stage = stringContext('stage') ?? 'dev';
if (!/^[a-z0-9-]+$/.test(stage))
  throw new Error(`Context stage must be lower-case letters, digits and dashes: ${stage}`);

new CrmStack(app, `crm-${stage}`, {
  stage,
  description: `CRM backend (${stage})`,
  // Environment-agnostic unless the CLI knows the account: synth works offline.
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  throttle: {
    rateLimit: numberContext('throttleRateLimit', 50),
    burstLimit: numberContext('throttleBurstLimit', 100),
  },
  corsAllowedOrigins: listContext('corsAllowedOrigins'),
  logLevel: stringContext('logLevel'),
  mailFromIdentity: stringContext('mailFromIdentity'),
  mailFrom: stringContext('mailFrom'),
  mailSenders: listContext('mailSenders'),
  alarmEmail: stringContext('alarmEmail'),
  qualifierModelId: stringContext('qualifierModelId'),
  responderModelId: stringContext('responderModelId'),
});

Tags.of(app).add('app', 'crm');
Tags.of(app).add('stage', stage);
