import type { TreeSpec } from './files';
import { createNxWorkspace, type NxWorkspace } from './nx-workspace';

/**
 * A fixture Nx workspace ready to run: {@link createNxWorkspace} with
 * `spec` and `pluginOptions`, everything committed (Nx hashes tracked files,
 * and `{{sha}}` tags read HEAD). `env` is set in process.env while the
 * workspace is made and restored after: its Nx runs see the environment of
 * its creation, so this is how a test gives them a secret or a PATH.
 */
export function createFixtureWorkspace(spec: TreeSpec, pluginOptions: Record<string, unknown> = {}, env: Record<string, string> = {}): NxWorkspace {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  let ws: NxWorkspace;
  try {
    ws = createNxWorkspace(spec, pluginOptions);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  ws.git('add', '-A');
  ws.git('commit', '-qm', 'fixture');
  return ws;
}
