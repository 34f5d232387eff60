import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { CrmStack, type CrmStackProps } from '../../infra/crm-stack';
import { acknowledgedRules, applyRulePacks } from '../../infra/nag';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

interface Violation {
  ruleName: string;
  description: string;
  severity: string;
  violatingConstructs: { constructPath: string }[];
}
interface ValidationReport {
  pluginReports: { pluginName: string; conclusion: string; violations: Violation[] }[];
}

/**
 * Synthesizes the stack as `cdk synth` does (cdk.json's flags, the rule packs on the app) and returns
 * the packs' report: CDK writes it into the cloud assembly, and throws when a finding is an error.
 */
function synthWithRulePacks(props: CrmStackProps, Stack: typeof CrmStack = CrmStack) {
  const outdir = mkdtempSync(join(tmpdir(), 'crm-nag-'));
  const app = new App({
    outdir,
    context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: false,
  });
  applyRulePacks(app);
  new Stack(app, 'CrmNag', { stage: 'prod', ...props });
  let failure: Error | undefined;
  try {
    app.synth();
  } catch (error) {
    failure = error as Error;
  }
  const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as ValidationReport;
  rmSync(outdir, { recursive: true, force: true });
  return { report, failure };
}

const findings = (report: ValidationReport) =>
  report.pluginReports.flatMap((plugin) =>
    plugin.violations.flatMap((violation) =>
      violation.violatingConstructs.map((construct) => `${violation.severity} ${violation.ruleName} at ${construct.constructPath}`),
    ),
  );

/** Every optional part switched on: channel mail senders, inbound mail, both models, alarm mail. */
const fullProps: CrmStackProps = {
  mailFromIdentity: 'mail.example.com',
  mailSenders: ['job:deliver_message'],
  inboundMailRecipients: ['inbox.example.com'],
  qualifierModelId: 'eu.anthropic.claude-haiku-4-5-20251001-v1:0',
  responderModelId: 'anthropic.claude-haiku-4-5-20251001-v1:0',
  alarmEmail: 'ops@example.com',
};

describe('AWS rule packs (cdk-nag AwsSolutions and Serverless) on the stack', () => {
  let result: ReturnType<typeof synthWithRulePacks>;
  beforeAll(() => {
    // With an account and region, as `cdk deploy` synthesizes it (ARNs then name them, not pseudo parameters).
    result = synthWithRulePacks({ ...fullProps, env: { account: '123456789012', region: 'eu-west-1' } });
  });

  it('acknowledges only what the packs find: without the acknowledgements, both packs report exactly those rules', async () => {
    vi.resetModules();
    vi.doMock('../../infra/nag', async (importOriginal) => ({
      ...(await importOriginal<typeof import('../../infra/nag')>()),
      acknowledgeFinding: () => undefined,
      acknowledgeFindings: () => undefined,
    }));
    try {
      const { CrmStack: UnacknowledgedStack } = await import('../../infra/crm-stack');
      const { report } = synthWithRulePacks(fullProps, UnacknowledgedStack);
      expect(report.pluginReports.map((plugin) => plugin.pluginName).sort()).toEqual(['AwsSolutions', 'Serverless']);
      const rules = new Set(report.pluginReports.flatMap((plugin) => plugin.violations.map((violation) => violation.ruleName.replace(/\[.*$/, ''))));
      expect([...rules].sort()).toEqual([...new Set(Object.values(acknowledgedRules).map((rule) => rule.id.replace(/\[.*$/, '')))].sort());
    } finally {
      vi.doUnmock('../../infra/nag');
      vi.resetModules();
    }
  });

  it('finds nothing that is not acknowledged with a reason, warnings included', () => {
    expect(findings(result.report)).toEqual([]);
    expect(result.failure).toBeUndefined();
    // And environment-agnostic, as `npm run synth` makes it offline.
    const agnostic = synthWithRulePacks(fullProps);
    expect(findings(agnostic.report)).toEqual([]);
    expect(agnostic.failure).toBeUndefined();
  });

  it('fails the synth on a new finding: a function without tracing', async () => {
    const { Tracing } = await import('aws-cdk-lib/aws-lambda');
    const { Function: LambdaFunction, Code, Runtime } = await import('aws-cdk-lib/aws-lambda');
    const outdir = mkdtempSync(join(tmpdir(), 'crm-nag-'));
    const app = new App({ outdir, context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
    applyRulePacks(app);
    const stack = new CrmStack(app, 'CrmNagNew', { stage: 'prod' });
    new LambdaFunction(stack, 'Untraced', {
      runtime: Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: Code.fromInline('export const handler = async () => {};'),
      tracing: Tracing.DISABLED,
    });
    expect(() => app.synth()).toThrow(/Serverless-LambdaTracing|AwsSolutions-IAM4/);
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as ValidationReport;
    rmSync(outdir, { recursive: true, force: true });
    const untraced = findings(report).filter((finding) => finding.includes('CrmNagNew/Untraced/'));
    expect(untraced).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/Serverless-LambdaTracing at CrmNagNew\/Untraced\/Resource/),
        expect.stringMatching(/AwsSolutions-IAM4.*at CrmNagNew\/Untraced\/ServiceRole/),
      ]),
    );
  });

  it('explains every acknowledged rule in the README', () => {
    for (const rule of Object.values(acknowledgedRules)) {
      expect(rule.reason.length, rule.id).toBeGreaterThan(80);
      expect(readme, rule.id).toContain(`\`${rule.id.replace(/\[.*$/, '')}\``);
    }
  });
});
