/**
 * An inbound mail (an SES receipt notification): its MIME message read (inline in the SNS notification,
 * or the S3 object the receipt rule wrote) and parsed with postal-mime, and the conversation it
 * continues found by its threading headers.
 *
 * Threading (issue 14): the `mail-id` guards map a Message-ID (no angle brackets, lower-cased) to its
 * conversation: the send side writes ours and SES's for each outbound mail, and each inbound mail's is
 * written here with its message. A mail continues the conversation of its In-Reply-To, else of its
 * References (newest first: the last one listed), else of a `reply+<conversationId>@` recipient; none
 * of them: a new thread, so a new conversation (not the contact's latest).
 *
 * Sources: RFC 5322 §3.6.4 (Message-ID, In-Reply-To, References: msg-id lists, the parent's id last);
 * https://docs.aws.amazon.com/ses/latest/dg/receiving-email-action-sns.html (inline content, UTF-8 or
 * Base64) and .../receiving-email-action-s3.html (the raw mail as the S3 object); postal-mime's README,
 * https://github.com/postalsys/postal-mime (`PostalMime.parse(raw)` → `text`, `html`, `subject`,
 * `messageId`, `inReplyTo`, `references`).
 */
import type PostalMime from 'postal-mime';
import { loadedOnFirstUse } from '../../shared/built-on-first-use';
import type { BlobStore } from '../../shared/ports';
import type { CoreDeps } from '../../shared/deps';
import type { TxEntities } from '../../store/db';
import type { InboundEmailDetails } from '../inbound-events';
import { mailIdGuard, mailIdScope, mailIdValue } from '../mail-ids';

export { mailIdGuard, mailIdScope, mailIdValue };

/** At most this many References are kept and looked up (a long thread lists them all). */
const maxReferences = 20;
/** A message body holds at most this many characters (messages.schemas maxBodyLength). */
const maxBodyChars = 65_536;

export interface ParsedMail {
  text: string;
  subject: string | null;
  messageIdHeader: string | null;
  inReplyTo: string | null;
  references: string[];
  /** RFC 3834 `Auto-Submitted` and `Precedence`: a mail no person wrote (the autoreply bot's loop guard reads them). */
  autoSubmitted: string | null;
  precedence: string | null;
  /**
   * A delivery status report (RFC 3464: `multipart/report; report-type=delivery-status`), a mail server's
   * bounce of a mail, not a person's message.
   */
  deliveryReport: boolean;
  /** The From display name, RFC 2047 words decoded (SES's notification gives the header as written). */
  fromName: string | null;
  /** The files the mail carries, attached or inline (an image its HTML shows), in MIME order. */
  attachments: MailFile[];
}

/** One file of a mail, decoded. */
export interface MailFile {
  fileName: string | null;
  mimeType: string;
  bytes: Uint8Array;
}

/** The raw MIME bytes of the mail, or undefined when the notification carries none we can read. */
export async function readMime(blobs: BlobStore | undefined, details: InboundEmailDetails): Promise<Uint8Array | undefined> {
  const content = details.content;
  if (!content) return undefined;
  if (content.location === 'inline') return Buffer.from(content.data, content.encoding === 'base64' ? 'base64' : 'utf8');
  // The receipt rule writes into the deployment's bucket (the one BlobStore serves): the key is enough.
  if (!blobs) throw new Error('The mail is in S3 but no blob store is configured');
  const bytes = await blobs.get(content.key);
  // Not there (yet): throw, so the provider's retry reads it again.
  if (!bytes) throw new Error(`The mail object ${content.key} is not in the bucket`);
  return bytes;
}

const headerOf = (headers: readonly { key: string; value: string }[] | undefined, key: string): string | null =>
  headers?.find((header) => header.key.toLowerCase() === key)?.value.trim().slice(0, 100) ?? null;

const idsIn = (value: string | undefined | null): string[] => (value ? (value.match(/<[^<>\s]+>/g) ?? []) : []);

/**
 * postal-mime, imported on the first mail parsed rather than at cold start: only inbound email needs it,
 * and deployed it sits beside the function's bundle (infra/constructs/first-use-modules.ts).
 */
const loadPostalMime: () => Promise<typeof PostalMime> = /* @__PURE__ */ loadedOnFirstUse(
  async () => (await import('postal-mime')).default,
);

/** The mail's text (its HTML as text when it has no text part) and threading headers; the notification's as fallback. */
export async function parseMail(raw: Uint8Array | undefined, details: InboundEmailDetails): Promise<ParsedMail> {
  const email = raw ? await (await loadPostalMime()).parse(raw) : undefined;
  const text = email?.text?.trim() ? email.text : email?.html ? htmlToText(email.html) : '';
  const references = email?.references ? idsIn(email.references) : details.references;
  return {
    text: text.trim().slice(0, maxBodyChars),
    subject: email?.subject ?? details.subject,
    messageIdHeader: email?.messageId ?? details.messageIdHeader,
    inReplyTo: idsIn(email?.inReplyTo)[0] ?? details.inReplyTo,
    references: references.slice(-maxReferences),
    autoSubmitted: headerOf(email?.headers, 'auto-submitted'),
    precedence: headerOf(email?.headers, 'precedence'),
    deliveryReport: /^\s*multipart\/report\s*;(?:.*;)?\s*report-type\s*=\s*"?delivery-status"?/is.test(
      email?.headers.find((header) => header.key.toLowerCase() === 'content-type')?.value ?? '',
    ),
    fromName: email?.from?.name?.trim() || null,
    attachments: (email?.attachments ?? []).map((file) => ({
      fileName: file.filename,
      mimeType: file.mimeType,
      // postal-mime's default attachment encoding is an ArrayBuffer.
      bytes: typeof file.content === 'string' ? Buffer.from(file.content, file.encoding === 'base64' ? 'base64' : 'utf8') : new Uint8Array(file.content),
    })),
  };
}

const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** HTML to readable text: block ends become line breaks, tags go, entities are decoded. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style|head)\b[\s\S]*?<\/\1>/gi, '')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|li|tr|h[1-6]|blockquote)>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
      if (name[0] === '#') {
        const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
        return Number.isFinite(code) ? String.fromCodePoint(code) : whole;
      }
      return entities[name.toLowerCase()] ?? whole;
    })
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/**
 * The conversation the mail continues: In-Reply-To, then References newest first (one BatchGetItem of
 * their guards), then a `reply+<conversationId>@` recipient; undefined for a new thread. The caller
 * still checks the conversation is the sender's on the email channel.
 */
export async function findThread(
  deps: CoreDeps,
  workspaceId: string,
  mail: ParsedMail,
  recipients: readonly string[],
): Promise<{ conversationId: string; by: 'in-reply-to' | 'references' | 'reply-address' } | undefined> {
  const ordered = [
    ...(mail.inReplyTo ? [{ id: mail.inReplyTo, by: 'in-reply-to' as const }] : []),
    ...[...mail.references].reverse().map((id) => ({ id, by: 'references' as const })),
  ];
  const keys = [...new Map(ordered.map((entry) => [mailIdValue(entry.id), entry])).values()];
  if (keys.length > 0) {
    const { data } = await deps.db.entities.uniqueGuard
      .get(keys.map((entry) => mailIdGuard(workspaceId, entry.id)))
      .go({ consistent: true });
    const owners = new Map(data.map((guard) => [guard.value, guard.ownerId]));
    for (const entry of keys) {
      const owner = owners.get(mailIdValue(entry.id));
      if (owner) return { conversationId: owner, by: entry.by };
    }
  }
  for (const address of recipients) {
    // Ids are ULIDs (upper case): a mail system that lower-cased the local part still finds it.
    const match = /^reply\+cv_([0-9A-Za-z]{26})@/i.exec(address.trim());
    if (match) return { conversationId: `cv_${match[1]!.toUpperCase()}`, by: 'reply-address' };
  }
  return undefined;
}

/** Stores the inbound mail's Message-ID for its conversation (a later reply to it finds the thread). */
export const mailIdOp = (tx: TxEntities, workspaceId: string, messageId: string, conversationId: string, at: string) =>
  tx.uniqueGuard.put({ ...mailIdGuard(workspaceId, messageId), ownerId: conversationId, createdAt: at }).commit();
