import { readTargetCredentials } from '../credentials/read-target-credentials';
import { planCredentialGroups } from '../credentials/credential-groups';
import type { ImageTarget } from '../image-target';
import { planRun, type RunPlan } from '../run-plan';
import { planLinks, withLinkDependencies, type ImageLink } from './plan-links';
import { readDockerfiles } from './read-dockerfiles';

/** A run's plan with its image links, and the targets as the run schedules them. */
export interface LinkedRunPlan {
  plan: RunPlan;
  /** The targets with their links added to `dependsOn`. */
  targets: ImageTarget[];
  links: ImageLink[];
  /** Dockerfile text by target id, as read for the links. */
  dockerfiles: Map<string, string>;
}

/**
 * Read the targets' Dockerfiles, find the image→image links between them,
 * make every link a dependency, find which targets must not build at the
 * same time because their registry credentials differ, and plan the run.
 * Reads files (Dockerfiles, Docker configs), never contacts a daemon, so
 * `--print` shows all of it.
 */
export async function planLinkedRun(targets: readonly ImageTarget[]): Promise<LinkedRunPlan> {
  const dockerfiles = await readDockerfiles(targets);
  const links = planLinks(targets, dockerfiles);
  const linked = withLinkDependencies(targets, links);
  const credentials = planCredentialGroups(await readTargetCredentials(linked, dockerfiles));
  return { plan: planRun(linked, links, credentials), targets: linked, links, dockerfiles };
}
