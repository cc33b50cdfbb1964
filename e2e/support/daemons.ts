import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A daemon the e2e suite runs against. */
export interface E2eDaemon {
  /** Short name used in test titles (docker-28, docker-26, docker-20, external). */
  name: string;
  /** Builder address for BuildkitClient.connect. */
  address: string;
  /** `docker` for Docker engines (both session transports are tested), else `buildkitd`. */
  kind: 'docker' | 'buildkitd';
  /**
   * Docker engines only: `containerd` (docker-28c) offers BuildKit's image
   * (push), oci and docker exporters; the `classic` store only moby, local and tar.
   */
  imageStore?: 'classic' | 'containerd';
}

/** What e2e/daemons/up.sh started (daemons.json). */
export interface E2eEnvironment {
  daemons: E2eDaemon[];
  registry?: string;
  registryAuth?: { address: string; username: string; password: string };
  baseImage?: string;
}

/** Where e2e/daemons/*.sh keep their state. */
export function daemonsHome(): string {
  return process.env.NXBK_DAEMONS_HOME ?? path.join(os.homedir(), '.cache', 'nx-buildkit', 'daemons');
}

/**
 * The daemons to test against. `NXBK_E2E_BUILDER` names any external builder
 * (`unix://…`, `tcp://…`, `docker://…`): then only that one is used and no
 * daemon is started (the registries of e2e/daemons/up.sh are still used when
 * they run). Otherwise the daemons started by e2e/daemons/up.sh.
 */
export function e2eEnvironment(): E2eEnvironment {
  const external = process.env.NXBK_E2E_BUILDER;
  const started = startedByUpSh();
  if (external) {
    // The registries of e2e/daemons/up.sh serve an external builder as well, when they run.
    return {
      daemons: [{ name: 'external', address: external, kind: external.startsWith('docker') ? 'docker' : 'buildkitd' }],
      ...(started?.registry ? { registry: started.registry } : {}),
      ...(started?.registryAuth ? { registryAuth: started.registryAuth } : {}),
    };
  }
  if (!started) {
    throw new Error(`no daemons for the e2e suite: ${path.join(daemonsHome(), 'daemons.json')} is missing (run e2e/daemons/up.sh, or set NXBK_E2E_BUILDER)`);
  }
  const only = process.env.NXBK_E2E_DAEMONS?.split(',').filter(Boolean);
  return { ...started, daemons: started.daemons.filter((d) => !only || only.includes(d.name)) };
}

/** What e2e/daemons/up.sh started (daemons.json), every daemon with its client address; undefined when it started nothing. */
function startedByUpSh(): E2eEnvironment | undefined {
  const file = path.join(daemonsHome(), 'daemons.json');
  if (!fs.existsSync(file)) return undefined;
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as E2eEnvironment & { daemons: Array<E2eDaemon & { address: string }> };
  return {
    ...parsed,
    daemons: parsed.daemons.map((d) => ({
      name: d.name,
      kind: d.kind === 'docker' ? 'docker' : 'buildkitd',
      address: d.kind === 'docker' ? d.address.replace(/^unix:\/\//, 'docker://') : d.address,
      ...(d.imageStore ? { imageStore: d.imageStore } : {}),
    })),
  };
}

/**
 * The session transports worth testing on a daemon. The foundation suite
 * (`scope: 'all'`) runs both on every Docker engine; feature suites run the
 * Docker /session transport on the first (newest) engine only, which keeps
 * the suite's run time in bounds without losing a transport.
 */
export function sessionTransports(daemon: E2eDaemon, scope: 'all' | 'feature' = 'feature'): Array<'grpc' | 'docker'> {
  if (daemon.kind !== 'docker') return ['grpc'];
  if (scope === 'all' || process.env.NXBK_E2E_ALL_TRANSPORTS === '1') return ['grpc', 'docker'];
  return daemon.name === e2eEnvironment().daemons[0]?.name ? ['grpc', 'docker'] : ['grpc'];
}

/**
 * The builders the Nx-level suites run on: one Docker engine (the first that
 * `engine` accepts; default the first, i.e. newest) and the first standalone
 * buildkitd, each when the environment has one. The Nx layer does not depend
 * on the engine's BuildKit generation, but it does on the builder's kind
 * (image store or none, `load`, link mechanism), so both kinds run.
 */
export function nxBuilders(engine: (d: E2eDaemon) => boolean = () => true): E2eDaemon[] {
  const { daemons } = e2eEnvironment();
  const docker = daemons.find((d) => d.kind === 'docker' && engine(d)) ?? daemons.find((d) => d.kind === 'docker');
  const buildkitd = daemons.find((d) => d.kind === 'buildkitd');
  return [docker, buildkitd].filter((d): d is E2eDaemon => d !== undefined);
}

/** The PID file of a daemon e2e/daemons/up.sh started (the process whose descendants run its builds' steps). */
export function daemonPidFile(daemon: E2eDaemon): string {
  return daemon.kind === 'docker' ? path.join(daemonsHome(), 'run', daemon.name, 'dockerd.pid') : path.join(daemonsHome(), 'run', `${daemon.name}.pid`);
}

/** BuildKit's image (push), oci and docker exporters: buildkitd has them, a Docker engine only with the containerd image store. */
export function hasImageExporters(daemon: E2eDaemon): boolean {
  return daemon.kind === 'buildkitd' || daemon.imageStore === 'containerd';
}

/**
 * A Docker engine of e2e/daemons/up.sh to load images into when the builder
 * is a standalone buildkitd (whatever NXBK_E2E_DAEMONS selects): the
 * classic-store docker-28 if it runs, else any classic-store engine.
 * Undefined when up.sh started none.
 */
export function loadEngineBeside(): E2eDaemon | undefined {
  const engines = startedByUpSh()?.daemons.filter((d) => d.kind === 'docker') ?? [];
  return engines.find((d) => d.name === 'docker-28') ?? engines.find((d) => d.imageStore !== 'containerd');
}
