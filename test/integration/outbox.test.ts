import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSesClient } from '../../functions/shared/adapters/aws-clients';
import { createSesMailer } from '../../functions/shared/adapters/ses-mailer';
import { startOutboxWriter, type OutboxWriter } from '../../local/outbox';

/**
 * The outbox against the SES emulator of the global setup. The emulator is shared by every test file,
 * so these tests look only for their own messages (and never clear its store).
 */
const sesEndpoint = process.env.SES_ENDPOINT!;
const client = createSesClient({ region: 'us-east-1', sesEndpoint });
const mailer = createSesMailer({ client });
const run = randomUUID().slice(0, 8);
let dir: string;
const writers: OutboxWriter[] = [];

const send = (subject: string) =>
  mailer.send({
    from: 'crm@example.com',
    to: ['ada@example.com'],
    subject,
    text: `Body of ${subject}`,
    html: `<p>${subject}</p>`,
  });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'outbox-'));
});
afterEach(async () => {
  await Promise.all(writers.splice(0).map((writer) => writer.stop()));
});
afterAll(async () => {
  client.destroy();
  await rm(dir, { recursive: true, force: true });
});

describe('outbox writer', () => {
  it('writes each new mail once as <timestamp>-<messageId>.eml with its MIME text', async () => {
    // Prepare
    const target = join(dir, 'flush');
    const writer = startOutboxWriter({
      sesEndpoint,
      dir: target,
      pollMs: 60_000,
      since: Math.floor(Date.now() / 1000),
    });
    writers.push(writer);
    const { providerMessageId } = await send(`Hello ${run}`);

    // Act
    const written = await writer.flush();
    const again = await writer.flush();

    // Assess
    const file = written.find((path) => path.endsWith(`-${providerMessageId}.eml`));
    expect(file).toBeDefined();
    expect(file!.slice(target.length + 1)).toMatch(/^\d{8}T\d{6}Z-ses-\d+\.eml$/);
    const eml = await readFile(file!, 'utf8');
    expect(eml).toContain(`Subject: Hello ${run}`);
    expect(eml).toContain('To: ada@example.com');
    expect(eml).toContain(`Body of Hello ${run}`);
    expect(again).toEqual([]);
    expect((await readdir(target)).filter((name) => name.includes(providerMessageId))).toHaveLength(1);
  });

  it('picks mail up by polling on its own', async () => {
    const target = join(dir, 'poll');
    writers.push(startOutboxWriter({ sesEndpoint, dir: target, pollMs: 50 }));

    const { providerMessageId } = await send(`Polled ${run}`);

    await vi.waitFor(async () => {
      expect((await readdir(target)).some((name) => name.endsWith(`-${providerMessageId}.eml`))).toBe(true);
    });
  });

  it('does not write again a mail already in the directory from an earlier run', async () => {
    const target = join(dir, 'restart');
    const { providerMessageId } = await send(`Restart ${run}`);
    const first = startOutboxWriter({ sesEndpoint, dir: target, pollMs: 60_000 });
    const [path] = (await first.flush()).filter((file) => file.includes(providerMessageId));
    await first.stop();
    await writeFile(path!, 'kept as it was');

    const second = startOutboxWriter({ sesEndpoint, dir: target, pollMs: 60_000 });
    writers.push(second);
    const written = await second.flush();

    expect(written.filter((file) => file.includes(providerMessageId))).toEqual([]);
    expect(await readFile(path!, 'utf8')).toBe('kept as it was');
  });

  it('refuses a flush after stop', async () => {
    const writer = startOutboxWriter({ sesEndpoint, dir: join(dir, 'stopped'), pollMs: 60_000 });
    await writer.stop();

    await expect(writer.flush()).rejects.toThrow('stopped');
  });
});
