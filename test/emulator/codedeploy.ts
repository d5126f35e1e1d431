/**
 * AWS CodeDeploy for ECS blue/green (awsJson1_1, `X-Amz-Target: CodeDeploy_20141006.<Operation>`):
 *   GetDeploymentGroup      API_GetDeploymentGroup.html (computePlatform ECS, ecsServices)
 *   CreateDeployment        API_CreateDeployment.html (revision AppSpecContent) → deploymentId `d-…`
 *   GetDeployment           API_GetDeployment.html: status Created | Queued | InProgress | Baking |
 *                           Succeeded | Failed | Stopped | Ready; errorInformation { code, message }
 *   ListDeploymentTargets   API_ListDeploymentTargets.html; an ECS target's id is `<cluster>:<service>` (modelled, not documented)
 *   GetDeploymentTarget     API_GetDeploymentTarget.html / API_ECSTarget.html: lifecycleEvents
 *                           [{ lifecycleEventName, status: Pending | InProgress | Succeeded | Failed | Skipped }]
 *   StopDeployment          API_StopDeployment.html: { deploymentId, autoRollbackEnabled } → Stopped
 * (all under docs.aws.amazon.com/codedeploy/latest/APIReference/). The ECS lifecycle events in
 * order are those of the AppSpec "hooks" section for ECS (reference-appspec-file-structure-hooks.html).
 *
 * Time is driven by the client, not the clock: every GetDeployment moves a deployment one step
 * (Created → each lifecycle event → Succeeded / Failed), so a test behaves the same on a slow machine.
 * On success the service runs the new task definition (CodeDeploy's replacement task set becomes primary).
 */
import { AwsError, epochSeconds, hex, requireString, type EmuContext, type JsonOperations } from './core.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const ECS_LIFECYCLE = [
  'BeforeInstall',
  'Install',
  'AfterInstall',
  'AllowTestTraffic',
  'AfterAllowTestTraffic',
  'BeforeAllowTraffic',
  'AllowTraffic',
  'AfterAllowTraffic',
] as const;

export interface CodeDeployScenario {
  /** success [default]; fail at `failAt`; hold: stays InProgress at `holdAt` until StopDeployment. */
  result: 'success' | 'fail' | 'hold';
  failAt?: (typeof ECS_LIFECYCLE)[number];
  holdAt?: (typeof ECS_LIFECYCLE)[number];
  errorCode?: string;
  message?: string;
}

interface Group {
  applicationName: string;
  deploymentGroupName: string;
  cluster: string;
  service: string;
}

interface Deployment {
  id: string;
  group: Group;
  taskDefinitionArn: string;
  appSpec: string;
  scenario: CodeDeployScenario;
  /** Steps taken: 0 = Created, 1..8 = that lifecycle event in progress, 9 = all done. */
  step: number;
  status: string;
  createdAt: number;
  completedAt?: number;
  errorInformation?: { code: string; message: string };
  rollbackInfo?: { rollbackMessage: string };
  events: Json[];
}

export class CodeDeployService {
  private readonly groups = new Map<string, Group>();
  private readonly deployments = new Map<string, Deployment>();
  private readonly queued: CodeDeployScenario[] = [];

  constructor(
    private readonly ctx: EmuContext,
    /** Makes the service run the new revision when a deployment succeeds. */
    private readonly completed: (cluster: string, service: string, taskDefinitionArn: string) => void,
  ) {}

  /** Seeding: an application with one ECS deployment group for cluster/service. */
  createDeploymentGroup(g: Group): void {
    this.groups.set(`${g.applicationName}/${g.deploymentGroupName}`, g);
  }

  /** The next CreateDeployment behaves like this. */
  nextDeployment(s: CodeDeployScenario): void {
    this.queued.push(s);
  }

  /** For tests: the deployments created, oldest first. */
  list(): { id: string; status: string; appSpec: string; taskDefinitionArn: string; rollbackInfo?: unknown }[] {
    return [...this.deployments.values()].map((d) => ({
      id: d.id,
      status: d.status,
      appSpec: d.appSpec,
      taskDefinitionArn: d.taskDefinitionArn,
      rollbackInfo: d.rollbackInfo,
    }));
  }

  /** `application/deploymentGroup` of a deployment (the IAM log checks deployment calls against their group). */
  groupOf(deploymentId: string): string | undefined {
    const g = this.deployments.get(deploymentId)?.group;
    return g && `${g.applicationName}/${g.deploymentGroupName}`;
  }

  private group(app: unknown, name: unknown): Group {
    const g = this.groups.get(`${requireString(app, 'applicationName')}/${requireString(name, 'deploymentGroupName')}`);
    if (!g) throw new AwsError('DeploymentGroupDoesNotExistException', `No Deployment Group found for name: ${String(name)}`);
    return g;
  }

  private deployment(id: unknown): Deployment {
    const d = this.deployments.get(requireString(id, 'deploymentId', 'DeploymentIdRequiredException'));
    if (!d) throw new AwsError('DeploymentDoesNotExistException', `Deployment ${String(id)} does not exist`);
    return d;
  }

  /** One step forward (called by GetDeployment). */
  private advance(d: Deployment): void {
    if (['Succeeded', 'Failed', 'Stopped'].includes(d.status)) return;
    const now = this.ctx.now();
    const at = d.step >= 1 ? ECS_LIFECYCLE[d.step - 1] : undefined;
    if (d.scenario.result === 'hold' && at === (d.scenario.holdAt ?? 'AfterAllowTestTraffic')) return;
    if (d.scenario.result === 'fail' && at === (d.scenario.failAt ?? 'AfterAllowTestTraffic')) {
      d.events[d.step - 1] = {
        ...d.events[d.step - 1],
        status: 'Failed',
        endTime: epochSeconds(now),
        diagnostics: { errorCode: 'ScriptFailed', message: d.scenario.message ?? 'The hook reported failure.' },
      };
      d.status = 'Failed';
      d.completedAt = now;
      d.errorInformation = {
        code: d.scenario.errorCode ?? 'ECS_UPDATE_ERROR',
        message: d.scenario.message ?? `The deployment failed because a lifecycle hook failed: ${at}.`,
      };
      return;
    }
    if (d.step >= 1) d.events[d.step - 1] = { ...d.events[d.step - 1], status: 'Succeeded', endTime: epochSeconds(now) };
    d.step += 1;
    if (d.step > ECS_LIFECYCLE.length) {
      d.status = 'Succeeded';
      d.completedAt = now;
      this.completed(d.group.cluster, d.group.service, d.taskDefinitionArn);
      return;
    }
    d.status = 'InProgress';
    d.events[d.step - 1] = { ...d.events[d.step - 1], status: 'InProgress', startTime: epochSeconds(now) };
  }

  private info(d: Deployment): Json {
    return {
      deploymentId: d.id,
      applicationName: d.group.applicationName,
      deploymentGroupName: d.group.deploymentGroupName,
      computePlatform: 'ECS',
      status: d.status,
      createTime: epochSeconds(d.createdAt),
      ...(d.completedAt !== undefined ? { completeTime: epochSeconds(d.completedAt) } : {}),
      ...(d.errorInformation ? { errorInformation: d.errorInformation } : {}),
      ...(d.rollbackInfo ? { rollbackInfo: d.rollbackInfo } : {}),
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content: d.appSpec } },
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
    };
  }

  operations(): JsonOperations {
    return {
      GetDeploymentGroup: (input: Json) => {
        const g = this.group(input.applicationName, input.deploymentGroupName);
        return {
          deploymentGroupInfo: {
            applicationName: g.applicationName,
            deploymentGroupName: g.deploymentGroupName,
            computePlatform: 'ECS',
            ecsServices: [{ clusterName: g.cluster, serviceName: g.service }],
            deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
          },
        };
      },
      CreateDeployment: (input: Json) => {
        const g = this.group(input.applicationName, input.deploymentGroupName);
        const content = input.revision?.appSpecContent?.content;
        if (input.revision?.revisionType !== 'AppSpecContent' || typeof content !== 'string')
          throw new AwsError('InvalidRevisionException', 'An ECS deployment needs revisionType AppSpecContent with content.');
        let spec: Json;
        try {
          spec = JSON.parse(content) as Json;
        } catch {
          throw new AwsError('InvalidRevisionException', 'The AppSpec content is not valid JSON (the emulator reads JSON AppSpecs only).');
        }
        const td = spec.Resources?.[0]?.TargetService?.Properties?.TaskDefinition;
        if (typeof td !== 'string')
          throw new AwsError('InvalidRevisionException', 'The AppSpec names no Resources[0].TargetService.Properties.TaskDefinition.');
        if (this.active(g))
          throw new AwsError(
            'DeploymentLimitExceededException',
            `The Deployment Group '${g.deploymentGroupName}' already has an active Deployment '${this.active(g)!.id}'`,
          );
        const id = `d-${hex(5).toUpperCase().slice(0, 9)}`;
        const d: Deployment = {
          id,
          group: g,
          taskDefinitionArn: td,
          appSpec: content,
          scenario: this.queued.shift() ?? { result: 'success' },
          step: 0,
          status: 'Created',
          createdAt: this.ctx.now(),
          events: ECS_LIFECYCLE.map((lifecycleEventName) => ({ lifecycleEventName, status: 'Pending' })),
        };
        this.deployments.set(id, d);
        return { deploymentId: id };
      },
      GetDeployment: (input: Json) => {
        const d = this.deployment(input.deploymentId);
        this.advance(d);
        return { deploymentInfo: this.info(d) };
      },
      ListDeploymentTargets: (input: Json) => {
        const d = this.deployment(input.deploymentId);
        return { targetIds: [`${d.group.cluster}:${d.group.service}`] };
      },
      GetDeploymentTarget: (input: Json) => {
        const d = this.deployment(input.deploymentId);
        if (input.targetId !== `${d.group.cluster}:${d.group.service}`)
          throw new AwsError('DeploymentTargetDoesNotExistException', `Target ${String(input.targetId)} does not exist`);
        const status = d.status === 'Created' ? 'Pending' : d.status === 'Stopped' ? 'Failed' : d.status;
        return {
          deploymentTarget: {
            deploymentTargetType: 'ECSTarget',
            ecsTarget: {
              deploymentId: d.id,
              targetId: input.targetId,
              targetArn: `arn:aws:ecs:${this.ctx.region}:${this.ctx.account}:service/${d.group.cluster}/${d.group.service}`,
              status,
              lifecycleEvents: d.events,
            },
          },
        };
      },
      StopDeployment: (input: Json) => {
        const d = this.deployment(input.deploymentId);
        if (['Succeeded', 'Failed', 'Stopped'].includes(d.status))
          throw new AwsError('DeploymentAlreadyCompletedException', `Deployment ${d.id} has already completed`);
        d.status = 'Stopped';
        d.completedAt = this.ctx.now();
        d.errorInformation = { code: 'DEPLOYMENT_STOPPED', message: 'The deployment was stopped by the user.' };
        // The service keeps its original task set: traffic never moved, or moves back with a rollback.
        if (input.autoRollbackEnabled)
          d.rollbackInfo = { rollbackMessage: 'The deployment was stopped; CodeDeploy rolled it back to the original task set.' };
        return { status: 'Succeeded', statusMessage: 'Deployment stopped' };
      },
    };
  }

  private active(g: Group): Deployment | undefined {
    return [...this.deployments.values()].find((d) => d.group === g && !['Succeeded', 'Failed', 'Stopped'].includes(d.status));
  }
}
