/**
 * Email threads are held together by Message-IDs: each mail's (ours when we send, SES's own once it
 * accepts, each inbound mail's) is kept in a `mail-id` guard owned by its conversation, so a reply's
 * In-Reply-To or References find the conversation in one read. Shared by the send path and inbound mail.
 */

/** The guard scope of Message-IDs (value: the id without brackets, lower-cased; owner: the conversation id). */
export const mailIdScope = 'mail-id';

/** A Message-ID as the `mail-id` guard stores it: no angle brackets, lower-cased. */
export const mailIdValue = (messageId: string) => messageId.trim().replace(/^<|>$/g, '').trim().toLowerCase();

/** The guard key of a Message-ID in a workspace. */
export const mailIdGuard = (workspaceId: string, messageId: string) => ({
  workspaceId,
  scope: mailIdScope,
  value: mailIdValue(messageId),
});
