import { SendEmailCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import type { Mailer } from '../../../domain/shared/ports';

export interface SesMailerOptions {
  client: SESv2Client;
  /** The configuration set whose event destinations report delivery, opens, clicks and bounces. */
  configurationSet?: string;
}

// SES accepts tag names and values of ASCII letters, digits, '_' and '-' only, up to 256 characters.
const tagPattern = /^[A-Za-z0-9_-]{1,256}$/;

/** Mailer over SES v2 SendEmail with simple content; tags become EmailTags (echoed by SES events). */
export function createSesMailer({ client, configurationSet }: SesMailerOptions): Mailer {
  return {
    async send(mail) {
      const tags = Object.entries(mail.tags ?? {});
      for (const [name, value] of tags) {
        if (!tagPattern.test(name) || !tagPattern.test(value)) {
          throw new Error(
            `Invalid SES email tag ${JSON.stringify(name)}: names and values allow A-Z a-z 0-9 _ - only`,
          );
        }
      }
      const result = await client.send(
        new SendEmailCommand({
          FromEmailAddress: mail.from,
          Destination: { ToAddresses: mail.to },
          Content: {
            Simple: {
              Subject: { Data: mail.subject, Charset: 'UTF-8' },
              Body: {
                Text: { Data: mail.text, Charset: 'UTF-8' },
                ...(mail.html !== undefined ? { Html: { Data: mail.html, Charset: 'UTF-8' } } : {}),
              },
            },
          },
          ...(tags.length > 0 ? { EmailTags: tags.map(([Name, Value]) => ({ Name, Value })) } : {}),
          ...(configurationSet ? { ConfigurationSetName: configurationSet } : {}),
        }),
      );
      if (!result.MessageId) throw new Error('SES returned no MessageId');
      return { providerMessageId: result.MessageId };
    },
  };
}
