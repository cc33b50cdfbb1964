import { describe, expect, test } from 'bun:test';
import { BuildkitError } from '../errors';
import { ProgressTracker } from '../progress/progress-tracker';
import { explainFailure } from './explain-failure';

const daemonError = (message: string) => new BuildkitError('unknown', `solve: ${message}`, { grpcCode: 2 });

function progressOf(steps: Array<{ digest: string; name: string; error?: string; log?: string }>): ProgressTracker {
  const p = new ProgressTracker();
  p.update({
    vertexes: steps.map((s) => ({ digest: s.digest, inputs: [], name: s.name, cached: false, ...(s.error ? { error: s.error } : {}) })),
    statuses: [],
    logs: steps.filter((s) => s.log).map((s) => ({ vertex: s.digest, stream: 2, data: Buffer.from(s.log!) })),
    warnings: [],
  });
  return p;
}

describe('explainFailure', () => {
  test('quotes the last lines a failed step printed, and says what an exec format error means', () => {
    const progress = progressOf([
      { digest: 'a', name: '[2/2] RUN echo never > /x', error: 'exit code: 1', log: 'exec /bin/sh: exec format error\n' },
      { digest: 'b', name: '[1/2] COPY sh /bin/sh', log: 'not failed, not quoted\n' },
    ]);
    const error = explainFailure(daemonError('process "/bin/sh -c echo never > /x" did not complete successfully: exit code: 1'), { platforms: ['linux/s390x'], progress });
    expect(error.message).toBe(
      'solve: process "/bin/sh -c echo never > /x" did not complete successfully: exit code: 1' +
        ' (exec format error: the builder cannot run programs built for linux/s390x without emulation;' +
        ' register QEMU binfmt handlers on the builder host, or build on a worker of that platform)' +
        '\n[2/2] RUN echo never > /x:\n  exec /bin/sh: exec format error',
    );
    expect(error.code).toBe('unknown');
    expect(error.grpcCode).toBe(2);
  });

  test('quotes at most the last ten lines, and skips cancelled steps', () => {
    const log = Array.from({ length: 15 }, (_, i) => `line ${i + 1}`).join('\n');
    const progress = progressOf([
      { digest: 'a', name: 'RUN make', error: 'exit code: 2', log },
      { digest: 'b', name: 'RUN other', error: 'context canceled', log: 'partial output\n' },
    ]);
    const message = explainFailure(daemonError('exit code: 2'), { progress }).message;
    expect(message).toContain('\nRUN make:\n  line 6\n');
    expect(message).toEndWith('  line 15');
    expect(message).not.toContain('line 5\n');
    expect(message).not.toContain('partial output');
    expect(message).not.toContain('exec format error');
  });

  test('leaves an error without failed-step output alone', () => {
    const original = daemonError('failed to read dockerfile');
    expect(explainFailure(original, { progress: progressOf([{ digest: 'a', name: 'load', error: 'failed' }]) })).toBe(original);
    expect(explainFailure(original)).toBe(original);
  });

  const explained: Array<[string, string, RegExp]> = [
    ['a missing image exporter', 'exporter "oci" could not be found', /^this builder has no "oci" exporter: a Docker engine with the classic image store/],
    ['a missing cache exporter', 'unknown cache exporter: "registry"', /^this builder cannot export cache of type "registry" \(it said: unknown cache exporter: "registry"\): .*exports only "inline" cache/],
    ['an entitlement the daemon does not grant', 'granting entitlement network.host is not allowed by build daemon configuration', /^this builder does not allow the entitlement "network\.host" .*--allow-insecure-entitlement network\.host, or set "builder": \{ "Entitlements": \{ "network-host": true \} \}/],
    ['an oci-layout context on a store without it', 'failed to resolve source metadata for docker.io/library/lay@sha256:00: unknown scheme oci-layout: not found', /^this builder cannot read oci-layout:\/\/ named contexts \(it said: unknown scheme oci-layout\)/],
  ];
  for (const [name, said, message] of explained) {
    test(`explains ${name}`, () => {
      const error = explainFailure(daemonError(said));
      expect(error.code).toBe('failed-precondition');
      expect(error.message).toMatch(message);
      expect((error.cause as Error).message).toBe(`solve: ${said}`);
    });
  }
});

describe('explainFailure: an SBOM generator the builder cannot resolve', () => {
  test('names the option, the image and what the builder needs', () => {
    const said = 'failed to resolve source metadata for 127.0.0.1:5000/scan/gen:1: 127.0.0.1:5000/scan/gen:1: not found';
    const error = explainFailure(daemonError(said), { sbomGenerator: '127.0.0.1:5000/scan/gen:1' });
    expect(error.code).toBe('failed-precondition');
    expect(error.message).toBe(
      'option "sbom": the SBOM generator image "127.0.0.1:5000/scan/gen:1" could not be resolved (it said: 127.0.0.1:5000/scan/gen:1: not found): ' +
        "the builder must be able to pull it; push a generator image (BuildKit's SBOM scanner protocol, such as docker/buildkit-syft-scanner) to a registry the builder reaches and name it in sbom.generator",
    );
  });

  test('recognises the default generator under its docker.io name, and leaves other images alone', () => {
    const said = 'failed to resolve source metadata for docker.io/docker/buildkit-syft-scanner:stable-1: dial tcp: lookup registry-1.docker.io: no such host';
    expect(explainFailure(daemonError(said), { sbomGenerator: 'docker/buildkit-syft-scanner:stable-1' }).message).toStartWith(
      'option "sbom": the SBOM generator image "docker/buildkit-syft-scanner:stable-1" could not be resolved (it said: dial tcp: lookup registry-1.docker.io: no such host)',
    );
    const base = daemonError('failed to resolve source metadata for docker.io/library/alpine:3: not found');
    expect(explainFailure(base, { sbomGenerator: 'docker/buildkit-syft-scanner:stable-1' })).toBe(base);
  });
});
