/**
 * The deploy, phase by phase: read everything (fail on bad input before any
 * write), publish the image, register if changed, update the services, wait,
 * and on failure diagnose and roll back to what each service ran before.
 */
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { ECRClient } from '@aws-sdk/client-ecr';
import { DescribeTaskDefinitionCommand, type ECSClient, type TaskDefinition } from '@aws-sdk/client-ecs';
import { ActionError, describeUnknown } from '../../lib/errors.js';
import type { Clock, Sleep } from '../../lib/poll.js';
import type { Reporter } from '../../lib/report.js';
import { diffTaskDefinitions } from '../../lib/taskdef-diff.js';
import { parseTaskDefinition, readTaskDefinitionFile, registerIfChanged, stripReadOnly, type TaskDefinitionInput } from '../../lib/taskdef.js';
import type { Diagnosis } from './diagnose.js';
import { startGates } from './gate-hook.js'; // gate hook (issue 11)
import type { GateResult } from './gate.js'; // gate hook (issue 11)
import { checkImages, pinDigests, promoteImage, pushImage, type ExecFn, type PublishedImage } from './image.js';
import type { Inputs } from './inputs.js';
import { revisionOf, type Tracked } from './judge.js';
import { handleFailure } from './rollback.js';
import { mapLimit, servicesBefore, stableRevision, updateService } from './services.js';
import { waitForDeployments, type WaitOutcome } from './wait.js';

export interface Deps {
  ecs: ECSClient;
  ecr: ECRClient;
  logs: CloudWatchLogsClient;
  exec: ExecFn;
  report: Reporter;
  sleep: Sleep;
  now: Clock;
  region: string;
}

/** `interrupted`: still rolling out when another service failed (the wait stops at the first failure). */
export type ServiceOutcome = 'succeeded' | 'unchanged' | 'failed' | 'timed-out' | 'interrupted' | 'rolled back' | 'rollback failed';

export interface ServiceResult {
  service: string;
  before?: string;
  after: string;
  result: ServiceOutcome;
  durationMs: number;
  deploymentId?: string;
  reason?: string;
}

export interface DeployResult {
  taskDefinitionArn: string;
  previousTaskDefinitionArn: string;
  changed: boolean;
  image: string;
  deploymentIds: Record<string, string>;
  status: 'succeeded' | 'unchanged' | 'failed' | 'timed-out';
  rolledBack: boolean;
  durationSeconds: number;
  services: ServiceResult[];
  diff: string[];
  diagnoses: Diagnosis[];
  /** gate hook (issue 11): every test-traffic gate run. */
  gates?: GateResult[];
  /** Set when the deploy failed; main.ts writes outputs and the summary, then throws it. */
  error?: ActionError;
}

async function describeTaskDefinition(ecs: ECSClient, ref: string, input?: string): Promise<{ td: TaskDefinition; tags: TaskDefinitionInput['tags'] }> {
  try {
    const out = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: ref, include: ['TAGS'] }));
    if (!out.taskDefinition?.taskDefinitionArn) throw new Error('no task definition returned');
    return { td: out.taskDefinition, tags: out.tags };
  } catch (err) {
    if (input) throw new ActionError(`Task definition '${ref}' cannot be described (${(err as Error).message}).`, { input, fix: 'Check the ARN or family:revision, and the region.' });
    throw err;
  }
}

function withContainerImage(def: TaskDefinitionInput, container: string, image: string): TaskDefinitionInput {
  return { ...def, containerDefinitions: def.containerDefinitions?.map((c) => (c.name === container ? { ...c, image } : c)) };
}

export async function deploy(inputs: Inputs, deps: Deps): Promise<DeployResult> {
  const { ecs, report } = deps;
  const started = deps.now();

  // ---- read-only phase: every input problem surfaces here, before any write call
  let def: TaskDefinitionInput | undefined;
  let existing: TaskDefinition | undefined;
  if (inputs.taskDefinition.kind === 'file') {
    def = readTaskDefinitionFile(inputs.taskDefinition.path, { input: 'task-definition' });
  } else {
    const got = await describeTaskDefinition(ecs, inputs.taskDefinition.ref, 'task-definition');
    existing = got.td;
    if (inputs.containerName || inputs.pinImageDigest || inputs.imagePublish !== 'none') {
      // A changed image means a new revision based on the given one.
      def = parseTaskDefinition({ ...stripReadOnly(got.td as Record<string, unknown>), ...(got.tags?.length ? { tags: got.tags } : {}) }, { input: 'task-definition' });
    }
  }
  const containers = (def ?? existing)?.containerDefinitions ?? [];
  if (inputs.containerName && !containers.some((c) => c.name === inputs.containerName)) {
    throw new ActionError(`Container '${inputs.containerName}' is not in the task definition (it has ${containers.map((c) => c.name).join(', ')}).`, {
      input: 'container-name',
      fix: 'Use the name of one of its containers.',
    });
  }
  const before = await report.group('Services before the update', async () => {
    const map = await servicesBefore(ecs, inputs.cluster, inputs.services);
    for (const [name, s] of map) report.info(`${name}: ${revisionOf(s.taskDefinition)}, running ${s.runningCount}/${s.desiredCount}, strategy ${s.deploymentConfiguration?.strategy ?? 'ROLLING'}`);
    return map;
  });
  // What each service ran before us: the rollback target and the "before" of the summary.
  const previous = new Map<string, string>();
  for (const name of inputs.services) {
    const stable = stableRevision(before.get(name)!);
    if (stable.note) report.warning(`${name} ${stable.note}.`);
    previous.set(name, stable.arn);
  }

  // ---- image
  let published: PublishedImage | undefined;
  if (inputs.imagePublish !== 'none') {
    published = await report.group(`Image (${inputs.imagePublish})`, () =>
      inputs.imagePublish === 'push'
        ? pushImage(deps.ecr, deps.exec, { localImage: inputs.image!, repository: inputs.ecrRepository!, tags: [...new Set([...(inputs.commitSha ? [inputs.commitSha] : []), ...inputs.tags])] }, report)
        : promoteImage(deps.ecr, inputs.sourceImage!, inputs.tags, deps.region, report),
    );
    if (inputs.containerName && def) def = withContainerImage(def, inputs.containerName, published.uri);
  }

  // ---- register
  const reg = await report.group('Task definition', async () => {
    if (def) {
      const checked = await checkImages(deps.ecr, def, deps.region);
      for (const c of checked) report.info(`image ${c.image} (${c.container}): ${c.skipped ? `not checked, ${c.skipped}` : `exists, ${c.digest ?? 'digest unknown'}`}`);
      if (inputs.pinImageDigest) def = pinDigests(def, checked);
      const r = await registerIfChanged(ecs, def);
      report.info(r.changed ? `registered ${r.arn}` : `unchanged: ${r.arn} already matches ${inputs.taskDefinition.kind === 'file' ? inputs.taskDefinition.path : 'the given revision'}`);
      return r;
    }
    report.info(`using existing ${existing!.taskDefinitionArn}`);
    return { arn: existing!.taskDefinitionArn!, changed: false, taskDefinition: existing!, previous: undefined, previousArn: undefined };
  });
  const arn = reg.arn;
  const finalDef = reg.taskDefinition;
  const mainContainer = finalDef.containerDefinitions?.find((c) => c.name === inputs.containerName) ?? finalDef.containerDefinitions?.[0];
  const image = mainContainer?.image ?? published?.uri ?? '';

  // Diff against what the (first) service ran before, which is what the user compares with.
  const firstBefore = previous.get(inputs.services[0]!);
  let previousDef = reg.previous?.taskDefinitionArn === firstBefore ? reg.previous : undefined;
  if (!previousDef && firstBefore && firstBefore !== arn) previousDef = (await describeTaskDefinition(ecs, firstBefore).catch(() => undefined))?.td;
  const diff = firstBefore === arn ? ['no change: the service already runs this revision'] : diffTaskDefinitions(previousDef, finalDef);

  // ---- update
  const toUpdate = inputs.services.filter((name) => {
    const s = before.get(name)!;
    return s.taskDefinition !== arn || inputs.forceNewDeployment || (inputs.desiredCount !== undefined && inputs.desiredCount !== s.desiredCount);
  });
  // One failed UpdateService must not leave the others updated and unwatched: collect the
  // errors, and treat them as a failed deployment (so the updated ones are rolled back).
  const updateErrors = new Map<string, string>();
  const updated = await report.group('Update services', () =>
    mapLimit(toUpdate, inputs.maxParallel, async (service): Promise<Tracked | undefined> => {
      try {
        const t = await updateService(ecs, inputs.cluster, { service, taskDefinition: arn, forceNewDeployment: inputs.forceNewDeployment, desiredCount: inputs.desiredCount }, deps.now);
        report.info(`${service}: ${revisionOf(previous.get(service))} → ${revisionOf(arn)}, deployment ${t.deploymentId ?? '(id not returned)'}${t.serviceDeploymentArn ? `, ${t.serviceDeploymentArn}` : ''}`);
        return t;
      } catch (err) {
        updateErrors.set(service, `UpdateService failed: ${describeUnknown(err)}`);
        report.warning(`${service}: UpdateService failed: ${describeUnknown(err)}`);
        return undefined;
      }
    }),
  );
  const tracked = updated.filter((t): t is Tracked => t !== undefined);
  for (const name of inputs.services.filter((n) => !toUpdate.includes(n))) report.info(`${name}: already on ${revisionOf(arn)}; not updated`);

  // ---- wait
  const intervalMs = inputs.pollIntervalSeconds * 1000;
  const timeoutMs = inputs.timeoutMinutes * 60_000;
  const gates = startGates(inputs, deps, tracked, before); // gate hook (issue 11): PAUSE-hook drivers run beside the wait
  const waited: WaitOutcome | undefined = tracked.length && updateErrors.size === 0
    ? await report.group(`Wait for ${tracked.length} service(s)`, () =>
        waitForDeployments({ ecs, report, sleep: deps.sleep, now: deps.now }, tracked, { cluster: inputs.cluster, intervalMs, timeoutMs, maxFailedTasks: inputs.maxFailedTasks }),
      )
    : undefined;
  await gates.finish(waited); // gate hook (issue 11): stop the drivers, post-deploy gates, gate failures → failed verdicts

  const results: ServiceResult[] = inputs.services.map((service) => {
    const t = tracked.find((x) => x.service === service);
    const b = previous.get(service);
    const updateError = updateErrors.get(service);
    if (updateError) return { service, before: b, after: arn, result: 'failed', durationMs: 0, reason: updateError };
    if (!t) return { service, before: b, after: arn, result: 'unchanged', durationMs: 0 };
    const v = waited?.verdicts.get(service);
    const end = waited?.finishedAt.get(service) ?? deps.now();
    const result: ServiceOutcome = v?.state === 'succeeded' ? 'succeeded' : v?.state === 'failed' ? 'failed' : waited?.timedOut ? 'timed-out' : 'interrupted';
    const reason = v?.state === 'failed' ? v.reason : result === 'timed-out' ? `timed out after ${inputs.timeoutMinutes} min (${v?.progress ?? 'no state yet'})` : undefined;
    return { service, before: b, after: arn, result, durationMs: end - t.startedAt, deploymentId: t.deploymentId, reason };
  });
  const failed = results.filter((r) => r.result === 'failed' || r.result === 'timed-out');
  const out: DeployResult = {
    taskDefinitionArn: arn,
    previousTaskDefinitionArn: previousArnOutput(inputs.services, previous),
    changed: reg.changed,
    image,
    deploymentIds: Object.fromEntries(tracked.filter((t) => t.deploymentId).map((t) => [t.service, t.deploymentId!])),
    status: failed.length ? (failed.some((r) => r.result === 'failed') ? 'failed' : 'timed-out') : toUpdate.length ? 'succeeded' : 'unchanged',
    rolledBack: false,
    durationSeconds: 0,
    services: results,
    diff,
    diagnoses: [],
    gates: gates.results, // gate hook (issue 11)
  };
  if (failed.length) await handleFailure(inputs, deps, { tracked, waited, before, previous, results, failed, finalDef, out });
  out.durationSeconds = Math.round((deps.now() - started) / 100) / 10;
  return out;
}

function previousArnOutput(services: string[], previous: Map<string, string>): string {
  const arns = services.map((s) => previous.get(s) ?? '');
  return new Set(arns).size <= 1 ? (arns[0] ?? '') : services.map((s, i) => `${s}=${arns[i]}`).join('\n');
}
