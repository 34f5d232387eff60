import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../local/emulators';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** A running `npm start -- --in-memory`, on free ports so it never meets another stack. */
export interface NpmStartProcess {
  child: ChildProcess;
  apiPort: number;
  sandboxPort: number;
  dynamoPort: number;
  apiBase: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** The demo workspace's owner token and member token, as printed. */
  ownerToken: string;
  memberToken: string;
  /** Its DynamoDB Local's Java processes (the test run's own DynamoDB Locals are not counted). */
  javaPids(): string[];
  /** Kills the whole process group at once (SIGKILL). */
  kill(): void;
  /** Asks it to stop (SIGTERM to the group, as Ctrl-C would) and waits until it has exited. */
  stop(): Promise<void>;
}

/**
 * Starts the CRM as `npm start` runs it: node with tsx's loader, no relay process between a signal and
 * the CRM, and waits for its "Ctrl-C stops everything" line. `env` adds to the environment (e.g.
 * `LOG_LEVEL`).
 */
export async function startNpmStart(options: { env?: Record<string, string>; nodeArgs?: string[]; timeoutMs?: number } = {}): Promise<NpmStartProcess> {
  const [api, dynamo, aws, ses, sandbox] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', 'local/start.ts', '--in-memory'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      PORT: String(api),
      DYNAMODB_PORT: String(dynamo),
      AWS_EMULATOR_PORT: String(aws),
      SES_PORT: String(ses),
      SANDBOX_PORT: String(sandbox),
      TABLE_NAME: '',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const kill = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const deadline = Date.now() + (options.timeoutMs ?? 80_000);
  while (!output.includes('Ctrl-C stops everything')) {
    if (child.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
    if (Date.now() > deadline) {
      kill();
      throw new Error(`npm start did not come up:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const token = (role: string) => output.match(new RegExp(`${role} token\\s+(crm_[A-Za-z0-9_-]{43})`))?.[1] ?? '';
  return {
    child,
    apiPort: api,
    sandboxPort: sandbox,
    dynamoPort: dynamo,
    apiBase: `http://127.0.0.1:${api}`,
    output: () => output,
    ownerToken: token('owner'),
    memberToken: token('member'),
    javaPids: () =>
      spawnSync('pgrep', ['-f', `DynamoDBLocal.jar.*-port ${dynamo}`], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter(Boolean),
    kill,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
    },
  };
}
