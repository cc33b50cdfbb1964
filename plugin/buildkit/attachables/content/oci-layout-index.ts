import { BuildkitError } from '../../errors';
import { putInOciIndex, type IndexName, type OciDescriptor } from './oci-index';

/** Exporter response key of the exported image's descriptor (base64 of JSON). */
export const imageDescriptorKey = 'containerimage.descriptor';
/** Exporter response key of the image names (comma-separated). */
export const imageNameKey = 'image.name';

/**
 * After a solve with an `oci` or `docker` exporter and `tar=false`: the
 * daemon has written the image's blobs into the session's `export` store,
 * and the client names it in `<dir>/index.json` (protocol doc §1.9 step 6).
 * Each name of `image.name` becomes an entry; without names the image is
 * tagged `latest`. Returns the image descriptor.
 */
export async function writeOciLayoutIndex(dir: string, exporterResponse: Record<string, string>, signal?: AbortSignal): Promise<OciDescriptor> {
  const encoded = exporterResponse[imageDescriptorKey];
  if (!encoded) throw new BuildkitError('protocol', `the solve response has no ${imageDescriptorKey} to put in ${dir}/index.json`);
  let descriptor: OciDescriptor;
  try {
    descriptor = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as OciDescriptor;
  } catch (err) {
    throw new BuildkitError('protocol', `${imageDescriptorKey} in the solve response is not base64 JSON`, { cause: err });
  }
  if (typeof descriptor?.digest !== 'string') throw new BuildkitError('protocol', `${imageDescriptorKey} is not a descriptor`);
  const names: IndexName[] = exporterResponse[imageNameKey]
    ? exporterResponse[imageNameKey].split(',').filter(Boolean).map((name) => ({ name }))
    : [{ tag: 'latest' }];
  await putInOciIndex(dir, descriptor, names, signal);
  return descriptor;
}
