/**
 * `npm run sandbox:reply -- --provider whatsapp --from +15551234567 --text "Hi"`: the contact writes back
 * through the provider sandbox (`POST /_sandbox/reply`), which posts the provider's signed webhook to
 * the product and prints what the product answered. The sandbox is found at SANDBOX_URL, else in
 * `.data/runtime.json` (written by `npm start`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runtimeFile } from '../paths';

const usage = `Usage: npm run sandbox:reply -- --provider whatsapp|telegram|twilio|ses --from <who> --text <text>
  [--account <phoneNumberId | accountSid | @bot_username | ses address>] [--from-name <name>]
  [--reply-to <provider message id>] [--media] [--edit <telegram message id>] [--call] [--to <address>]
  --from is the contact: +E.164 for WhatsApp and Twilio, a Telegram user id, an email address.
Environment: SANDBOX_URL (default: the sandboxUrl npm start wrote to .data/runtime.json)`;

const sandboxUrl = (): string => {
  if (process.env.SANDBOX_URL) return process.env.SANDBOX_URL.replace(/\/$/, '');
  if (existsSync(runtimeFile)) {
    const runtime = JSON.parse(readFileSync(runtimeFile, 'utf8')) as { sandboxUrl?: string };
    if (runtime.sandboxUrl) return runtime.sandboxUrl;
  }
  throw new Error('No sandbox found: start it with `npm start`, or set SANDBOX_URL to the URL it printed');
};

async function main() {
  const { values } = parseArgs({
    options: {
      provider: { type: 'string' },
      from: { type: 'string' },
      text: { type: 'string' },
      account: { type: 'string' },
      'from-name': { type: 'string' },
      'reply-to': { type: 'string' },
      media: { type: 'boolean' },
      edit: { type: 'string' },
      call: { type: 'boolean' },
      to: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || !values.provider || !values.from) {
    process.stdout.write(`${usage}\n`);
    process.exitCode = values.help ? 0 : 1;
    return;
  }
  const response = await fetch(`${sandboxUrl()}/_sandbox/reply`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      provider: values.provider,
      account: values.account,
      from: values.from,
      fromName: values['from-name'],
      text: values.text ?? '',
      replyTo: values['reply-to'],
      media: values.media ? {} : undefined,
      edit: values.edit,
      kind: values.call ? 'call' : undefined,
      to: values.to,
    }),
  });
  const result = (await response.json()) as Record<string, unknown>;
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  if (!response.ok || result.state !== 'delivered') process.exitCode = 1;
}

main().catch((error: Error) => {
  process.stderr.write(`sandbox:reply: ${error.message}\n`);
  process.exitCode = 1;
});
