import http from 'node:http';

/** Where a loaded image went: the Docker engine's API endpoint, as the executor recorded it in the metadata. */
export type EngineEndpoint = { socketPath: string } | { host: string; port: number };

/**
 * Whether the Docker engine an image was loaded into still holds it under
 * its name with the ID the build produced: the engine's image ID is the
 * config digest (classic store) or the manifest digest (containerd store).
 * `ok` when it does; `gone <name>` when the name is missing or now names
 * other content (`docker rmi`, a rebuild elsewhere); `unverified <name>` when
 * the engine cannot be asked. Stable texts only: Nx hashes them.
 *
 * Asked with `node:http` alone, no BuildKit client: the check runs on every
 * Nx run for every loaded image, and loading the gRPC stack would cost more
 * than the question.
 */
export async function checkLoadedImage(
  endpoint: EngineEndpoint,
  name: string,
  ids: readonly string[],
  options: { timeoutMs?: number } = {},
): Promise<{ value: string; detail: string }> {
  let answer: { status: number; body: string };
  try {
    answer = await get(endpoint, `/images/${encodeURIComponent(name)}/json`, options.timeoutMs ?? 5000);
  } catch (err) {
    return { value: `unverified ${name}`, detail: `${name}: the engine could not be asked (${(err as Error).message})` };
  }
  if (answer.status === 404) return { value: `gone ${name}`, detail: `${name}: no longer in the engine` };
  if (answer.status !== 200) return { value: `unverified ${name}`, detail: `${name}: the engine answered ${answer.status}` };
  let id: unknown;
  try {
    id = (JSON.parse(answer.body) as { Id?: unknown }).Id;
  } catch {
    return { value: `unverified ${name}`, detail: `${name}: the engine's answer is not JSON` };
  }
  if (typeof id === 'string' && ids.includes(id)) return { value: 'ok', detail: `${name}: present as ${id}` };
  return { value: `gone ${name}`, detail: `${name}: the engine holds ${String(id)} under this name, not ${ids.join(' or ')}` };
}

function get(endpoint: EngineEndpoint, path: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const target = 'socketPath' in endpoint ? { socketPath: endpoint.socketPath } : { host: endpoint.host, port: endpoint.port };
    const req = http.request({ ...target, method: 'GET', path, headers: { host: 'docker' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
