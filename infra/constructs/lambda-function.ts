import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  bundleAliases,
  firstUseFileCommands,
  firstUseFilesOf,
  firstUseModuleCommands,
  firstUseModulesOf,
  requireBanner,
  shellQuote,
} from './first-use-modules';

/** The repository root: handler entries in the definition tables are relative to it. */
export const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/** What every function of the app shares, decided once by the stack. */
export interface FunctionSettings {
  /** Variables every function gets (TABLE_NAME, BUCKET_NAME, LOG_LEVEL, POWERTOOLS_SERVICE_NAME). */
  environment: Record<string, string>;
  logRetention: RetentionDays;
}

export interface AppFunctionProps {
  /** Handler module relative to the repository root, e.g. `functions/http/users.handler.ts`. */
  entry: string;
  settings: FunctionSettings;
  /** @default 10 seconds */
  timeout?: Duration;
  description?: string;
  /** Files the handler reads at run time, copied into its bundle (see {@link BundledFiles}). */
  files?: readonly BundledFiles[];
  /**
   * Where Lambda puts the events of asynchronous invocations (EventBridge schedules) that failed every
   * retry. Functions invoked synchronously (API Gateway, Function URLs, event source mappings) have none:
   * their failures go back to the caller, the queue's redrive policy or the mapping's on-failure queue.
   */
  deadLetterQueue?: IQueue;
}

/**
 * Files copied next to the bundled handler after esbuild ran: `from` is a file or a shell glob
 * relative to the repository root, `to` a folder relative to the bundle's root (Lambda's /var/task).
 */
export interface BundledFiles {
  from: string;
  to: string;
}

/** The shell commands that copy {@link BundledFiles} from the project (inputDir) into the bundle (outputDir). */
export function copyCommands(files: readonly BundledFiles[], inputDir: string, outputDir: string): string[] {
  return files.flatMap(({ from, to }) => {
    const target = shellQuote(path.posix.join(outputDir, to));
    // The root is quoted, the glob after it is not, so the shell expands it; a glob that matches
    // nothing fails the copy, and so the synth.
    return [`mkdir -p ${target}`, `cp ${shellQuote(inputDir)}/${from} ${target}/`];
  });
}

/**
 * The one way this app builds a Lambda function: Node 24 on Graviton, an ESM bundle made locally by
 * esbuild (no Docker), JSON logs into a log group of its own with a retention.
 *
 * 1024 MB: Lambda allots CPU in proportion to memory, and cold start (module import, SDK client set-up)
 * and JSON (un)marshalling are CPU-bound; at 1024 MB they run several times faster than at 128 MB while
 * the price per request stays about the same, because the billed duration shrinks with it.
 */
export function createAppFunction(scope: Construct, id: string, props: AppFunctionProps): NodejsFunction {
  const logGroup = new LogGroup(scope, `${id}Logs`, {
    retention: props.settings.logRetention,
    // Logs are not business data; they expire anyway.
    removalPolicy: RemovalPolicy.DESTROY,
  });
  // Its own role instead of the AWS managed AWSLambdaBasicExecutionRole, which may write to every log
  // group of the account: this one writes to the function's own log group only.
  const role = new Role(scope, `${id}Role`, {
    assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    description: `Runs ${props.entry}`,
  });
  role.addToPolicy(
    new PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
  );
  const firstUse = firstUseModulesOf(props.entry);
  const firstUseFiles = firstUseFilesOf(props.entry);
  const afterBundling = (inputDir: string, outputDir: string) => [
    ...copyCommands(props.files ?? [], inputDir, outputDir),
    ...firstUseModuleCommands(firstUse, outputDir),
    ...firstUseFileCommands(firstUseFiles, outputDir),
  ];
  return new NodejsFunction(scope, id, {
    entry: path.join(projectRoot, props.entry),
    handler: 'handler',
    projectRoot,
    depsLockFilePath: path.join(projectRoot, 'package-lock.json'),
    description: props.description,
    runtime: Runtime.NODEJS_24_X,
    architecture: Architecture.ARM_64,
    memorySize: 1024,
    timeout: props.timeout ?? Duration.seconds(10),
    loggingFormat: LoggingFormat.JSON,
    logGroup,
    role,
    // X-Ray: each invocation's segment (init, invocation, overhead), so a slow request shows where it went.
    tracing: Tracing.ACTIVE,
    deadLetterQueue: props.deadLetterQueue,
    // No NODE_OPTIONS=--enable-source-maps: it holds the parsed map (~65 MB) for the life of the
    // function; the logger maps the stacks of the errors it writes (functions/shared/source-mapped-stacks.ts).
    environment: props.settings.environment,
    bundling: {
      minify: true,
      sourceMap: true,
      // Stack traces need the mappings only; leaving the sources out halves the .map file.
      sourcesContent: false,
      format: OutputFormat.ESM,
      target: 'node24',
      // Without it esbuild picks CommonJS builds of the SDK's dependencies: "Dynamic require of node:https".
      mainFields: ['module', 'main'],
      // CommonJS dependencies inside an ESM bundle still call require(). The alias keeps the banner's
      // import from clashing with a bundled module that imports createRequire itself.
      banner: requireBanner,
      // The nodejs24.x runtime ships AWS SDK v3. First-use packages are bundled beside the function
      // (node_modules/<name>/index.mjs, infra/constructs/first-use-modules.ts), not parsed at its init.
      externalModules: ['@aws-sdk/*', ...firstUse],
      // Code a dependency loads but no function runs, replaced by a stand-in (first-use-modules.ts).
      esbuildArgs: { '--alias': Object.entries(bundleAliases).map(([name, stub]) => `${name}=${stub}`) },
      ...(props.files?.length || firstUse.length || firstUseFiles.length
        ? { commandHooks: { beforeBundling: () => [], beforeInstall: () => [], afterBundling } }
        : {}),
    },
  });
}

/** `event-fanout` / `import_contacts` -> `EventFanout` / `ImportContacts`, for construct ids. */
export const pascalCase = (name: string) =>
  name
    .split(/[^a-zA-Z0-9]+/)
    .filter(Boolean)
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join('');
