import type { OperationId } from '../../../functions/http/routes';
import type { Ctx, Scenario } from '../scenarios';

const quote = new TextEncoder().encode('%PDF-1.7\nQuote 2026\n%%EOF\n');

/** A pending attachment of the owner's, its file uploaded through the presigned URL. */
export async function uploaded(ctx: Ctx) {
  const created = await ctx.call('POST', '/v1/attachments', {
    fileName: 'quote.pdf',
    contentType: 'application/pdf',
    sizeBytes: quote.length,
  });
  const put = await fetch(created.body.uploadUrl, {
    method: created.body.uploadMethod,
    headers: created.body.uploadHeaders,
    body: quote,
  });
  if (put.status !== 200) throw new Error(`upload → ${put.status}`);
  return created.body as { id: string };
}

export const attachmentsScenarios: Partial<Record<OperationId, Scenario>> = {
  createAttachment: {
    ok: async () => ({
      path: '/v1/attachments',
      body: { fileName: 'site-visit.jpg', contentType: 'image/jpeg', sizeBytes: 482_113 },
    }),
    cases: [
      {
        status: 422,
        why: 'a file over 25 MiB',
        build: async () => ({
          path: '/v1/attachments',
          body: { fileName: 'walkthrough.mp4', contentType: 'video/mp4', sizeBytes: 26_214_401 },
        }),
      },
      {
        status: 400,
        why: 'a type outside the allowlist',
        build: async () => ({
          path: '/v1/attachments',
          body: { fileName: 'page.html', contentType: 'text/html', sizeBytes: 100 },
        }),
      },
    ],
  },
  getAttachment: {
    ok: async (ctx) => ({ path: `/v1/attachments/${(await uploaded(ctx)).id}` }),
    cases: [
      {
        status: 404,
        why: 'another member’s pending upload',
        build: async (ctx) => {
          const created = await ctx.call(
            'POST',
            '/v1/attachments',
            { fileName: 'notes.txt', contentType: 'text/plain', sizeBytes: 10 },
            ctx.ws.admin.token,
          );
          return { path: `/v1/attachments/${created.body.id}`, token: ctx.ws.member.token };
        },
      },
    ],
  },
};
