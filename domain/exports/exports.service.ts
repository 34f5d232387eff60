import type { CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { createJob } from '../jobs/jobs.service';
import type { Job } from '../jobs/jobs.schemas';
import { resolveExportColumns } from './contact-export.service';
import type { ExportJobInput } from './export-job';
import type { ExportContactsInput } from './exports.schemas';

/**
 * Starts an export of the contacts the filters match (anyone in the workspace reads every contact, so
 * anyone may export them). Columns naming no custom field are refused here (422), before a job exists;
 * the job fixes the columns on its first run.
 */
export async function startExport(deps: CoreDeps, caller: CallerContext, input: ExportContactsInput): Promise<Job> {
  await resolveExportColumns(deps, caller, input.fields);
  const jobInput: ExportJobInput = { ...input, role: caller.role };
  return createJob(deps, caller, { kind: 'export_contacts', input: jobInput });
}
