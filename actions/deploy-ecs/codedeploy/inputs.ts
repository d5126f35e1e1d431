/**
 * The CodeDeploy inputs: a CODE_DEPLOY service is deployed through its CodeDeploy application and
 * deployment group, with an AppSpec file or one generated from the service's load balancer.
 * Checked without AWS; whether the service really is CODE_DEPLOY is checked before any write (run.ts).
 */
import { existsSync } from 'node:fs';
import { ActionError } from '../../../lib/errors.js';
import type { Inputs as InputReaderHelper } from '../../../lib/inputs.js';

export interface CodeDeployInputs {
  application: string;
  deploymentGroup: string;
  /** An AppSpec file (YAML or JSON); when absent one is generated. */
  appspec?: string;
}

// Application and deployment group names: 1–100 characters (API_CreateDeployment.html).
const NAME = /^.{1,100}$/;

export function readCodeDeployInputs(
  inp: InputReaderHelper,
  services: string[],
): { codedeploy?: CodeDeployInputs; problems: ActionError[] } {
  const application = inp.string('codedeploy-application');
  const deploymentGroup = inp.string('codedeploy-deployment-group');
  const appspec = inp.string('codedeploy-appspec');
  const problems: ActionError[] = [];
  if (!application && !deploymentGroup) {
    if (appspec)
      problems.push(
        new ActionError('codedeploy-appspec is set without codedeploy-application and codedeploy-deployment-group.', {
          input: 'codedeploy-appspec',
          fix: 'Set both CodeDeploy inputs for a CODE_DEPLOY service, or remove codedeploy-appspec.',
        }),
      );
    return { problems };
  }
  if (!application)
    problems.push(
      new ActionError('codedeploy-deployment-group is set without codedeploy-application.', {
        input: 'codedeploy-application',
        fix: 'Set codedeploy-application: the CodeDeploy application of the service.',
      }),
    );
  if (!deploymentGroup)
    problems.push(
      new ActionError('codedeploy-application is set without codedeploy-deployment-group.', {
        input: 'codedeploy-deployment-group',
        fix: 'Set codedeploy-deployment-group: the deployment group of the service.',
      }),
    );
  for (const [name, v] of [
    ['codedeploy-application', application],
    ['codedeploy-deployment-group', deploymentGroup],
  ] as const) {
    if (v && !NAME.test(v))
      problems.push(
        new ActionError(`'${v}' is longer than 100 characters.`, { input: name, fix: 'Use the name shown in the CodeDeploy console.' }),
      );
  }
  if (services.length > 1)
    problems.push(
      new ActionError(`A CodeDeploy deployment group deploys one service; services lists ${services.length}.`, {
        input: 'services',
        fix: 'Use one deploy-ecs step per CODE_DEPLOY service.',
      }),
    );
  if (appspec && !existsSync(appspec))
    problems.push(
      new ActionError(`AppSpec file '${appspec}' does not exist.`, {
        input: 'codedeploy-appspec',
        file: appspec,
        fix: 'Give the path of the AppSpec file relative to the workspace, or remove the input to generate one from the service.',
      }),
    );
  if (problems.length || !application || !deploymentGroup) return { problems };
  return { codedeploy: { application, deploymentGroup, appspec }, problems };
}

/** Inputs of other features that CodeDeploy deployments do not support: refused rather than ignored. */
export function unsupportedWithCodeDeploy(given: {
  imagePublish: string;
  promoteFrom?: unknown;
  gate?: unknown;
  desiredCount?: number;
  forceNewDeployment: boolean;
  previous: boolean;
}): ActionError[] {
  const out: ActionError[] = [];
  const refuse = (input: string, why: string) =>
    out.push(new ActionError(`${input} is not supported for a CODE_DEPLOY service: ${why}.`, { input, fix: `Remove ${input}; ${why}.` }));
  if (given.imagePublish !== 'none') refuse('image-publish', 'publish the image in an earlier step and pass the rendered task definition');
  if (given.promoteFrom) refuse('promote-from', 'pass a task definition that names the image digest');
  if (given.gate) refuse('gate-url', 'CodeDeploy runs its own test-traffic hooks (AfterAllowTestTraffic Lambda functions)');
  if (given.desiredCount !== undefined) refuse('desired-count', "CodeDeploy keeps the service's desired count");
  if (given.forceNewDeployment) refuse('force-new-deployment', 'a CodeDeploy deployment always starts a replacement task set');
  if (given.previous)
    refuse(
      'task-definition',
      "'previous' is resolved from ECS service deployments, which CodeDeploy services do not have; give the revision (family:revision)",
    );
  return out;
}
