import type { OperationId } from '../../../functions/http/routes';
import type { Ctx, Scenario } from '../scenarios';

/** A CSV uploaded through the API, ready to import: its upload id. */
async function uploaded(ctx: Ctx, csv = `Name,Email\nAda Lovelace,${ctx.unique('ada')}@example.com\n`, token = ctx.ws.owner.token) {
  const bytes = Buffer.from(csv, 'utf8');
  const res = await ctx.call('POST', '/v1/imports/uploads', { fileName: 'contacts.csv', sizeBytes: bytes.length }, token);
  const put = await fetch(res.body.uploadUrl, { method: 'PUT', headers: res.body.uploadHeaders, body: bytes });
  if (put.status !== 200) throw new Error(`upload PUT → ${put.status}`);
  return res.body.uploadId as string;
}

export const importsScenarios: Partial<Record<OperationId, Scenario>> = {
  createImportUpload: {
    ok: async () => ({ path: '/v1/imports/uploads', body: { fileName: 'hubspot-export.csv', sizeBytes: 2048 } }),
    invalid: async () => ({ path: '/v1/imports/uploads', body: { fileName: 'a/b.csv', sizeBytes: 0 } }),
    cases: [
      {
        status: 422,
        why: 'a file over 512 MiB',
        build: async () => ({ path: '/v1/imports/uploads', body: { fileName: 'huge.csv', sizeBytes: 600 * 1024 * 1024 } }),
      },
    ],
  },
  startImport: {
    ok: async (ctx) => ({
      path: '/v1/imports',
      body: { uploadId: await uploaded(ctx), format: 'csv', mode: 'create_and_update', tags: ['imported'], defaultCountry: 'GB' },
    }),
    invalid: async () => ({ path: '/v1/imports', body: { uploadId: 'nope', format: 'pdf' } }),
    cases: [
      {
        status: 403,
        why: 'a member giving the contacts to another user',
        build: async (ctx) => ({
          path: '/v1/imports',
          body: { uploadId: await uploaded(ctx, undefined, ctx.ws.member.token), format: 'csv', ownerId: ctx.ws.admin.user.id },
          token: ctx.ws.member.token,
        }),
      },
      {
        status: 409,
        why: 'an upload already imported',
        build: async (ctx) => {
          const uploadId = await uploaded(ctx);
          await ctx.call('POST', '/v1/imports', { uploadId, format: 'csv' });
          return { path: '/v1/imports', body: { uploadId, format: 'csv' } };
        },
      },
      {
        status: 422,
        why: 'a file with no email or phone column',
        build: async (ctx) => ({ path: '/v1/imports', body: { uploadId: await uploaded(ctx, 'Name,Notes\nAda,hi\n'), format: 'csv' } }),
      },
    ],
  },
  listImportErrors: {
    ok: async (ctx) => {
      const job = await ctx.call('POST', '/v1/imports', { uploadId: await uploaded(ctx), format: 'csv' });
      return { path: `/v1/imports/${job.body.id}/errors`, query: { limit: '10' } };
    },
    invalid: async (ctx) => ({ path: `/v1/imports/${(await ctx.job()).id}/errors`, query: { limit: '0' } }),
  },
  getImportTemplate: {
    ok: async () => ({ path: '/v1/imports/template', query: { format: 'csv' } }),
    invalid: async () => ({ path: '/v1/imports/template', query: { format: 'pdf' } }),
  },
  startExport: {
    ok: async () => ({ path: '/v1/exports', body: { format: 'csv', filters: { ownerId: 'none' } } }),
    invalid: async () => ({ path: '/v1/exports', body: { format: 'pdf' } }),
    cases: [
      {
        status: 422,
        why: 'a column naming no custom field',
        build: async () => ({ path: '/v1/exports', body: { fields: ['Name', 'Custom: nonexistent'] } }),
      },
    ],
  },
};
