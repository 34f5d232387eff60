import { describe, expect, it } from 'vitest';
import { parseMail } from '../../domain/channels/inbound/inbound-email';
import type { InboundEmailDetails } from '../../domain/channels/inbound-events';
import { fixtureBytes } from '../support/provider-fixtures';

/** What the SES notification says when the MIME says nothing (every field empty). */
const notification: InboundEmailDetails = {
  subject: null,
  messageIdHeader: null,
  inReplyTo: null,
  references: [],
  to: [],
  cc: [],
  verdicts: { spam: null, virus: null, spf: null, dkim: null, dmarc: null },
  headersTruncated: false,
  content: null,
};
const parsed = (name: string) => parseMail(fixtureBytes(`ses/mime/${name}`), notification);

describe('inbound mail MIME', () => {
  it('reads an alternative with only HTML as text (no style, entities decoded)', async () => {
    const mail = await parsed('html-only.eml');
    expect(mail.text).toBe('Hi,\nWhat would 12 seats cost & is there a discount?\nAna');
    expect(mail.subject).toBe('Pricing for 12 seats');
  });

  it.each([
    ['latin1.eml', "Devis pour l'équipe de Zürich", 'Je voudrais un devis pour l\'équipe de Zürich. Merci beaucoup à vous.'],
    ['cp1251.eml', 'Счёт на 12 мест', 'Нам нужен счёт на 12 мест.'],
    ['shift-jis.eml', '見積もりのお願い', '見積もりをお願いします。'],
  ])('decodes %s: its charset and its RFC 2047 subject', async (name, subject, line) => {
    const mail = await parsed(name);
    expect(mail.subject).toBe(subject);
    expect(mail.text).toContain(line);
  });

  it('keeps a mail without Message-ID (nothing to thread by) and a forwarded text whole', async () => {
    const mail = await parsed('no-message-id.eml');
    expect(mail.messageIdHeader).toBeNull();
    expect(mail.text).toContain('---------- Forwarded message ---------');
    expect(mail.text).toContain('Your invoice is attached.');
  });

  it('keeps the newest 20 of 60 folded References and the full folded subject', async () => {
    const mail = await parsed('long-headers.eml');
    expect(mail.references).toHaveLength(20);
    expect(mail.references.at(-1)).toBe('<thread-59@mail.example.com>');
    expect(mail.inReplyTo).toBe('<thread-59@mail.example.com>');
    expect(mail.subject!.length).toBeGreaterThan(300);
  });

  it('marks an auto-reply and a bounce report as mail no person wrote', async () => {
    expect(await parsed('auto-reply.eml')).toMatchObject({ autoSubmitted: 'auto-replied', precedence: 'bulk' });
    expect((await parsed('auto-reply.eml')).deliveryReport).toBe(false);
    const bounce = await parsed('bounce-report.eml');
    expect(bounce).toMatchObject({ autoSubmitted: 'auto-replied', deliveryReport: true });
    expect(bounce.text).toContain('550 5.1.1 User unknown');
  });
});
