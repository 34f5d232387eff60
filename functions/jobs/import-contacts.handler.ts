import { importContactsJob } from '../../domain/imports/import-job';
import { createJobHandler } from './job-runner';

/** `import_contacts` jobs: reads the uploaded file a chunk of rows at a time, continuing itself from its cursor. */
export const handler = createJobHandler(importContactsJob);
