import type { DockerfileReference } from '../../dockerfile/dockerfile-references';

/**
 * Rewrite a Dockerfile so that the given references (found by
 * parseDockerfileReferences) name `replacement` instead. Only for daemons
 * whose Dockerfile frontend has no named contexts (BuildKit 0.8/0.9, Docker
 * 20.10): there, the only way to make `FROM base` read another image is to
 * serve a Dockerfile that says so. Each reference is replaced once, in the
 * instruction it was found in and only in the position that names an image
 * (the `FROM` operand, `--from=`, a mount's `from=`), never in commands or
 * arguments that happen to contain the same word. A reference that cannot be
 * found in that position (e.g. split over a line continuation) is an error
 * rather than a build that silently uses another image.
 */
export function rewriteReferences(text: string, refs: readonly DockerfileReference[], replacement: string): string {
  const newline = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.split(/\r?\n/);
  for (const ref of refs) {
    const name = escapeRegExp(ref.ref);
    const pattern =
      ref.kind === 'from'
        ? new RegExp(`^(\\s*from\\s+(?:--\\S+\\s+)*)${name}(?=\\s|$)`, 'i')
        : ref.kind === 'copy-from'
          ? new RegExp(`(--from=)${name}(?=\\s|$)`)
          : new RegExp(`([=,]\\s*from=["']?)${name}(?=["']?(?:[\\s,]|$))`, 'i');
    // FROM names its image on its own line; flags may sit on continuation lines below the instruction's first.
    const last = ref.kind === 'from' ? ref.line : lines.length;
    let done = false;
    for (let i = ref.line - 1; i < last && !done; i++) {
      const line = lines[i];
      if (line === undefined || !pattern.test(line)) continue;
      lines[i] = line.replace(pattern, (_m, head: string) => `${head}${replacement}`);
      done = true;
    }
    if (!done) throw new Error(`cannot point "${ref.ref}" (line ${ref.line}) at another image: the reference is not where the instruction names its image`);
  }
  return lines.join(newline);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
