/**
 * Deploying a CODE_DEPLOY service: every check before any write (the service uses CodeDeploy, the
 * deployment group exists, the AppSpec can be built), then register the task definition only when
 * it changed, CreateDeployment with the AppSpec, follow it, and on failure print CodeDeploy's
 * errorInformation and the lifecycle event that failed. Cancel and timeout stop the deployment
 * with CodeDeploy's rollback (StopDeployment autoRollbackEnabled).
 */
import { CreateDeploymentCommand, GetDeploymentGroupCommand, type CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { ActionError, describeUnknown } from '../../../lib/errors.js';
import type { Clock, Sleep } from '../../../lib/poll.js';
import type { Reporter } from '../../../lib/report.js';
import { readTaskDefinitionFile, registerIfChanged } from '../../../lib/taskdef.js';
import type { DeployResult } from '../deploy-types.js';
import { familyOf } from '../family-guard.js';
import type { Inputs } from '../inputs.js';
import { revisionOf } from '../judge.js';
import { appSpecContent, generatedAppSpec, readAppSpec } from './appspec.js';
import { followDeployment, stopWithRollback, verbatim } from './follow.js';
import type { CodeDeployInputs } from './inputs.js';

export interface CodeDeployDeps {
  ecs: ECSClient;
  codedeploy: CodeDeployClient;
  report: Reporter;
  sleep: Sleep;
  now: Clock;
  signal?: AbortSignal;
}

export interface CodeDeployResult extends DeployResult {
  codedeployDeploymentId: string;
  lifecycle: { name: string; status: string }[];
}

async function checks(inputs: Inputs, cd: CodeDeployInputs, deps: CodeDeployDeps) {
  const name = inputs.services[0]!;
  const svc = (await deps.ecs.send(new DescribeServicesCommand({ cluster: inputs.cluster, services: [name] }))).services?.[0];
  if (!svc || svc.status !== 'ACTIVE')
    throw new ActionError(`Service '${name}' was not found (or is not ACTIVE) in cluster '${inputs.cluster}'.`, {
      input: 'services',
      fix: 'Check the service and cluster names and the region.',
    });
  const controller = svc.deploymentController?.type ?? 'ECS';
  if (controller !== 'CODE_DEPLOY') {
    throw new ActionError(
      `Service '${name}' uses the ${controller} deployment controller, but codedeploy-application / codedeploy-deployment-group are set.`,
      { input: 'codedeploy-application', fix: 'Remove the codedeploy-* inputs: this action deploys ECS-controller services itself.' },
    );
  }
  const group = await deps.codedeploy
    .send(new GetDeploymentGroupCommand({ applicationName: cd.application, deploymentGroupName: cd.deploymentGroup }))
    .catch((err: unknown) => {
      throw new ActionError(
        `CodeDeploy deployment group '${cd.application}/${cd.deploymentGroup}' cannot be read: ${describeUnknown(err)}.`,
        {
          input: 'codedeploy-deployment-group',
          fix: 'Check codedeploy-application and codedeploy-deployment-group (aws deploy list-deployment-groups --application-name …) and the region.',
        },
      );
    });
  const ecsServices = group.deploymentGroupInfo?.ecsServices ?? [];
  const cluster = svc.clusterArn?.split('/').pop();
  if (
    ecsServices.length &&
    !ecsServices.some((s) => s.serviceName === name && (s.clusterName === cluster || s.clusterName === svc.clusterArn))
  ) {
    throw new ActionError(
      `Deployment group '${cd.deploymentGroup}' deploys ${ecsServices.map((s) => `${s.clusterName}/${s.serviceName}`).join(', ')}, not ${cluster}/${name}.`,
      { input: 'codedeploy-deployment-group', fix: 'Use the deployment group of this service.' },
    );
  }
  // The family guard, as for ECS-controller services (family-guard.ts).
  const td = inputs.taskDefinition;
  const family = td.kind === 'file' ? readTaskDefinitionFile(td.path).family : familyOf(td.ref);
  const from = familyOf(svc.taskDefinition);
  if (family && from && family !== from && !inputs.allowFamilyChange) {
    throw new ActionError(`Service '${name}' runs task-definition family '${from}'; this would move it to '${family}'.`, {
      input: 'task-definition',
      fix: `Deploy a revision of '${from}', or set allow-family-change: true if the move is intended.`,
    });
  }
  const template = cd.appspec ? readAppSpec(cd.appspec) : generatedAppSpec(svc);
  return { svc, template };
}

export async function deployCodeDeploy(inputs: Inputs, cd: CodeDeployInputs, deps: CodeDeployDeps): Promise<CodeDeployResult> {
  const { report } = deps;
  const started = deps.now();
  const service = inputs.services[0]!;
  const td = inputs.taskDefinition;
  const def = td.kind === 'file' ? readTaskDefinitionFile(td.path) : undefined;
  const { svc, template } = await report.group('Checks before the deploy (CodeDeploy)', async () => {
    const c = await checks(inputs, cd, deps);
    report.info(
      `${service}: CODE_DEPLOY, runs ${revisionOf(c.svc.taskDefinition)}; deployment group ${cd.application}/${cd.deploymentGroup}; ` +
        `AppSpec ${c.template.source}`,
    );
    return c;
  });
  const before = svc.taskDefinition ?? '';
  const base: CodeDeployResult = {
    taskDefinitionArn: '',
    previousTaskDefinitionArn: before,
    changed: false,
    image: '',
    deploymentIds: {},
    status: 'dry-run',
    rolledBack: false,
    durationSeconds: 0,
    services: [],
    diff: [],
    diagnoses: [],
    codedeployDeploymentId: '',
    lifecycle: [],
  };
  const finish = (r: CodeDeployResult): CodeDeployResult => ({ ...r, durationSeconds: Math.round((deps.now() - started) / 100) / 10 });

  if (inputs.dryRun) {
    const line =
      `would register ${def ? `a revision of ${def.family} if it changed` : 'nothing (existing revision)'} and create a ` +
      `CodeDeploy deployment in ${cd.application}/${cd.deploymentGroup} (AppSpec ${template.source})`;
    report.info(line);
    return finish({
      ...base,
      dryRun: { register: line, lines: [line, `${service}: would deploy through CodeDeploy (runs ${revisionOf(before)})`], diffs: [] },
      services: [{ service, before, after: '', result: 'planned', durationMs: 0 }],
    });
  }
  if (deps.signal?.aborted)
    return finish({
      ...base,
      status: 'cancelled',
      services: [{ service, before, after: '', result: 'cancelled', durationMs: 0 }],
      error: new ActionError('deploy-ecs was cancelled before any write.', { fix: 'Re-run the workflow to deploy.' }),
    });

  const reg = await report.group('Task definition', async () => {
    if (def) {
      const r = await registerIfChanged(deps.ecs, def);
      report.info(r.changed ? `registered ${r.arn}` : `unchanged: ${r.arn} already matches`);
      return { arn: r.arn, changed: r.changed, image: r.taskDefinition.containerDefinitions?.[0]?.image ?? '' };
    }
    const got = await deps.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: (td as { ref: string }).ref }));
    return {
      arn: got.taskDefinition!.taskDefinitionArn!,
      changed: false,
      image: got.taskDefinition?.containerDefinitions?.[0]?.image ?? '',
    };
  });

  const { content, sha256 } = appSpecContent(template, reg.arn);
  const created = await report.group('CodeDeploy deployment', () =>
    deps.codedeploy.send(
      new CreateDeploymentCommand({
        applicationName: cd.application,
        deploymentGroupName: cd.deploymentGroup,
        description: `deploy-ecs: ${revisionOf(reg.arn)}`,
        revision: { revisionType: 'AppSpecContent', appSpecContent: { content, sha256 } },
      }),
    ),
  );
  const id = created.deploymentId!;
  report.info(`${service}: ${revisionOf(before)} → ${revisionOf(reg.arn)}, CodeDeploy deployment ${id}`);
  const deadline = started + inputs.timeoutMinutes * 60_000;
  const followed = await report.group(`Wait for CodeDeploy ${id}`, () =>
    followDeployment(deps, id, { intervalMs: inputs.pollIntervalSeconds * 1000, deadline }),
  );
  const lifecycle = followed.events.map((e) => ({ name: e.lifecycleEventName ?? '', status: e.status ?? '' }));
  const out: CodeDeployResult = {
    ...base,
    taskDefinitionArn: reg.arn,
    changed: reg.changed,
    image: reg.image,
    deploymentIds: { [service]: id },
    codedeployDeploymentId: id,
    lifecycle,
    status: 'succeeded',
  };
  const row = { service, before, after: reg.arn, durationMs: deps.now() - started, deploymentId: id };

  if (followed.status === 'Succeeded') return finish({ ...out, services: [{ ...row, result: 'succeeded' }] });
  if (followed.status === 'Failed' || followed.status === 'Stopped') {
    const err = followed.info?.errorInformation;
    const ev = followed.failedEvent;
    const reason =
      `CodeDeploy ` +
      `${followed.status}${ev ? ` at lifecycle event ${ev.lifecycleEventName}` : ''}${err ? `: ${err.code ?? ''} ${err.message ?? ''}`.trimEnd() : ''}`;
    report.warning(
      `${service}: CodeDeploy deployment ${id} ${followed.status}${ev ? ` at lifecycle event ${ev.lifecycleEventName}` : ''}.`,
    );
    verbatim(report, [
      `errorInformation: ${err?.code ?? '(none)'}: ${err?.message ?? ''}`,
      ...(ev?.diagnostics ? [`${ev.lifecycleEventName}: ${ev.diagnostics.errorCode ?? ''} ${ev.diagnostics.message ?? ''}`] : []),
    ]);
    const rolledBack = !!followed.info?.rollbackInfo;
    return finish({
      ...out,
      status: 'failed',
      rolledBack,
      services: [{ ...row, result: rolledBack ? 'rolled back' : 'failed', reason }],
      error: new ActionError(`${service}: ${reason}.`, {
        fix: `See the deployment in the CodeDeploy console (${id}) and the lifecycle hook that failed.`,
      }),
    });
  }
  // Timed out or cancelled: stop it and let CodeDeploy roll back to the original task set.
  const why = followed.cancelled ? 'cancelled' : 'timed-out';
  report.warning(
    `${service}: ${why === 'cancelled' ? 'the workflow was cancelled' : `timed out after timeout-minutes ${inputs.timeoutMinutes}`}; ` +
      `stopping CodeDeploy deployment ${id} with rollback.`,
  );
  const stop = await stopWithRollback(deps, id);
  const reason = `${why === 'cancelled' ? 'cancelled' : 'timed out'}; ${stop.note}`;
  return finish({
    ...out,
    status: why,
    rolledBack: stop.rolledBack,
    services: [{ ...row, result: why, reason }],
    error: new ActionError(
      `${service}: the CodeDeploy deployment ${id} was ${why === 'cancelled' ? 'cancelled' : 'not finished in time'} and ` +
        `${stop.stopped ? 'stopped with rollback' : 'could not be stopped'}.`,
      { fix: stop.stopped ? 'Re-run to deploy again.' : `Stop it in the CodeDeploy console (${id}).` },
    ),
  });
}
