import type { ChannelAdapters } from '../../domain/channels/outbound';
import { fetchMediaJob, type FetchMediaDeps } from '../../domain/channels/inbound/fetch-media.job';
import { createChannelAdapters } from '../shared/adapters/channels/channel-adapters';
import { getConfig } from '../shared/config';
import { getCoreDeps, getSecretSealer, withBlobStore } from '../shared/deps';
import { createJobHandler } from './job-runner';

let adapters: Pick<ChannelAdapters, 'fetchMedia'> | undefined;

/** Tests give their own media source; undefined goes back to the providers' APIs (built on first use). */
export function setMediaAdapters(value: Pick<ChannelAdapters, 'fetchMedia'> | undefined): void {
  adapters = value;
}

const deps = (): FetchMediaDeps => {
  adapters ??= createChannelAdapters(getConfig());
  return { ...withBlobStore(getCoreDeps()), sealer: getSecretSealer(), adapters };
};

/** `fetch_media` jobs: an inbound message's files, from the provider into S3 as its attachments. */
export const handler = createJobHandler(fetchMediaJob, { getDeps: deps });
