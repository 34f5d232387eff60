import {
  contactImportTemplate,
  createImportUpload,
  listImportRowErrors,
  startImport,
} from '../../domain/imports/imports.service';
import { startExport } from '../../domain/exports/exports.service';
import { withBlobStore } from '../shared/deps';
import { createHttpHandler, RawResponse } from './http-handler';
import { importsRoutes } from './routes/imports.routes';

export const handler = createHttpHandler('imports', importsRoutes, {
  createImportUpload: ({ caller, body }, deps) => createImportUpload(withBlobStore(deps), caller, body),
  startImport: ({ caller, body }, deps) => startImport(withBlobStore(deps), caller, body),
  listImportErrors: ({ caller, params, query }, deps) => listImportRowErrors(deps, caller, params.jobId, query),
  startExport: ({ caller, body }, deps) => startExport(deps, caller, body),
  getImportTemplate: async ({ caller, query }, deps) => {
    const template = await contactImportTemplate(deps, caller, query.format);
    return new RawResponse(200, template.bytes, {
      'content-type': template.contentType,
      'content-disposition': `attachment; filename="${template.fileName}"`,
    });
  },
});
