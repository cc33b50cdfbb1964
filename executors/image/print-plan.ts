import { escapesFilterHeaders, formatCapabilities, type BuildkitClient, type CapabilitiesReport } from '../../plugin/buildkit/index';
import type { ImageExecutorOptions } from '../../plugin/config/executor-options';
import { workspaceCapabilities } from '../../plugin/engine/capability-file';
import { withDefaultOutputs } from '../../plugin/engine/default-outputs';
import type { ImageTarget } from '../../plugin/engine/image-target';
import { planLinkedRun } from '../../plugin/engine/links/plan-linked-run';
import { planForBuilder } from '../../plugin/engine/plan-for-builder';
import { formatPlan } from '../../plugin/engine/run-plan';
import { connectBuilder } from './builder-connection';

/** How long `--print` waits for the builder to answer before it prints the plan without what only the builder knows. */
const printConnectMs = 2_000;

/** The builder as `--print` met it: its client and capabilities, or why it is not known. */
type Builder = { client: BuildkitClient; report: CapabilitiesReport } | { unknown: string };

/**
 * What `--print` shows: the complete plan the run would execute, then the
 * builder's capabilities. What the plan needs of the builder (its binding,
 * its default outputs, whether it escapes filter headers) is asked of it
 * when it answers within a short bound; otherwise the plan says its sessions
 * are not known. `json`: the plan and capabilities as one line of JSON.
 */
export async function printedPlan(targets: readonly ImageTarget[], options: ImageExecutorOptions, ctx: { workspaceRoot: string; signal?: AbortSignal }): Promise<string> {
  const builder = await askBuilder(options, ctx);
  try {
    const given = 'client' in builder ? await withDefaultOutputs(targets, builder.client, ctx.signal) : targets;
    const linked = await planLinkedRun(given);
    const binding = !linked.targets.some((t) => t.contextPolicy === 'shared') ? 'none' : 'report' in builder ? builder.report.binding : 'unknown';
    // A builder that stops answering here is planned for as one that does not escape filter headers.
    const escapes = () => ('client' in builder ? escapesFilterHeaders(builder.client, ctx.signal).catch(() => false) : Promise.resolve(false));
    const plan = await planForBuilder(linked, binding, escapes, ctx.signal);
    // The plan object itself (never a session ID in it: sessions get theirs when they open).
    if (options.print === 'json') return JSON.stringify({ plan, builder: 'report' in builder ? builder.report : { unknown: builder.unknown } });
    return `${formatPlan(plan)}\n${'report' in builder ? formatCapabilities(builder.report) : builder.unknown}`;
  } finally {
    if ('client' in builder) await builder.client.close();
  }
}

async function askBuilder(options: ImageExecutorOptions, ctx: { workspaceRoot: string; signal?: AbortSignal }): Promise<Builder> {
  let client: BuildkitClient | undefined;
  try {
    client = await connectBuilder(options, ctx.workspaceRoot, ctx.signal, printConnectMs);
    // The answers a run would use: remembered from an earlier run where there is one (the report says which).
    return { client, report: await workspaceCapabilities(client, ctx.workspaceRoot).report(ctx.signal) };
  } catch (err) {
    await client?.close();
    return { unknown: `builder ${options.builder ?? '(default)'}: capabilities not known, it did not answer (${(err as Error).message.split('\n')[0]})` };
  }
}
