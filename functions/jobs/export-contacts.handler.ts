import { exportContactsJob } from '../../domain/exports/export-job';
import { createJobHandler } from './job-runner';

/** `export_contacts` jobs: streams the matched contacts into one S3 object, continuing itself (CSV) from its state. */
export const handler = createJobHandler(exportContactsJob);
