import fs from 'node:fs/promises';
import path from 'node:path';
import { BuilderCapabilities, type BuildkitClient, type CapabilityStore, type RememberedCapabilities } from '../buildkit/index';

/**
 * Where a workspace keeps what it probed about its builders:
 * `node_modules/.cache/nx-buildkit/capabilities.json`. Not Nx's cache
 * directory: that holds Nx's task outputs, may be shared between machines or
 * moved (`NX_CACHE_DIRECTORY`), and finding it would tie the engine to Nx.
 * `node_modules/.cache/<tool>` is where JavaScript tools keep what they can
 * always work out again; every workspace ignores it in git, and deleting it
 * costs one probe on the next run.
 */
export function capabilityFilePath(workspaceRoot: string): string {
  return path.join(workspaceRoot, 'node_modules', '.cache', 'nx-buildkit', 'capabilities.json');
}

/** The capabilities of `client`'s builder, remembered in the workspace's capability file across runs. */
export function workspaceCapabilities(client: BuildkitClient, workspaceRoot: string): BuilderCapabilities {
  return new BuilderCapabilities(client, { store: new CapabilityFile(capabilityFilePath(workspaceRoot)) });
}

/** Builders kept at most; the ones probed longest ago go first. */
const maxBuilders = 32;

interface FileShape {
  version: 1;
  builders: Record<string, RememberedCapabilities & { at: string }>;
}

/**
 * A {@link CapabilityStore} in one small JSON file. Written whole through a
 * temporary file and a rename, so a reader never sees half a file; two runs
 * writing at once may lose one's answer, which only costs a probe later. A
 * file that cannot be read or parsed counts as empty.
 */
export class CapabilityFile implements CapabilityStore {
  /** Changes made through this object, one at a time (each reads, merges and writes the whole file). */
  private changes: Promise<void> = Promise.resolve();

  constructor(private readonly file: string) {}

  async read(identity: string): Promise<RememberedCapabilities | undefined> {
    const entry = (await this.load()).builders[identity];
    if (!entry) return undefined;
    const { at: _at, ...answers } = entry;
    return answers;
  }

  write(identity: string, answers: RememberedCapabilities): Promise<void> {
    return this.change(async (content) => {
      content.builders[identity] = { ...content.builders[identity], ...answers, at: new Date().toISOString() };
      return true;
    });
  }

  forget(identity: string): Promise<void> {
    return this.change(async (content) => delete content.builders[identity]);
  }

  private change(edit: (content: FileShape) => Promise<boolean>): Promise<void> {
    const next = this.changes.then(async () => {
      const content = await this.load();
      if (await edit(content)) await this.save(content);
    });
    this.changes = next.catch(() => {});
    return next;
  }

  private async load(): Promise<FileShape> {
    try {
      const parsed = JSON.parse(await fs.readFile(this.file, 'utf8')) as Partial<FileShape>;
      if (parsed.version === 1 && parsed.builders && typeof parsed.builders === 'object') return { version: 1, builders: validEntries(parsed.builders) };
    } catch {
      // Missing or unreadable: nothing remembered.
    }
    return { version: 1, builders: {} };
  }

  private async save(content: FileShape): Promise<void> {
    const kept = Object.entries(content.builders).sort(([, a], [, b]) => b.at.localeCompare(a.at)).slice(0, maxBuilders);
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    const temporary = `${this.file}.${process.pid}.${Date.now()}.tmp`;
    await fs.writeFile(temporary, JSON.stringify({ version: 1, builders: Object.fromEntries(kept) }, null, 2) + '\n');
    await fs.rename(temporary, this.file);
  }
}

const mechanisms = new Set(['local-sessionid', 'frontend-inputs', 'prefetch']);

/** Only entries whose answers are ones a probe could give: a hand-edited or foreign file is never taken on trust. */
function validEntries(builders: Record<string, unknown>): FileShape['builders'] {
  const valid: FileShape['builders'] = {};
  for (const [identity, raw] of Object.entries(builders)) {
    if (!raw || typeof raw !== 'object') continue;
    const e = raw as Record<string, unknown>;
    const entry: RememberedCapabilities & { at: string } = { at: typeof e.at === 'string' ? e.at : '' };
    if (typeof e.binding === 'string' && mechanisms.has(e.binding)) entry.binding = e.binding as RememberedCapabilities['binding'];
    if (typeof e.namedContexts === 'boolean') entry.namedContexts = e.namedContexts;
    valid[identity] = entry;
  }
  return valid;
}
