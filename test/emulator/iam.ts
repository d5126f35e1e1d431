/**
 * What each emulated call needs from IAM: the actions it is authorized as, the resource ARN each
 * is checked against, and the condition keys the request carries. Followed from the Service
 * Authorization Reference (SAR) page of each service (the "Actions defined by …" table: the
 * resource types of an action and its condition keys); the pages are listed in CONTRACT.md
 * ("IAM"). An action the SAR lists with no resource type is authorized against `*`.
 *
 * The log is written by iam-log.ts; the README policies are evaluated against it by
 * test/iam/policies.test.ts.
 */

export interface IamCall {
  /** `service:Action`, e.g. `ecs:UpdateService`. */
  action: string;
  /** The resource ARN the action is checked against, `*` when the action takes no resource type. */
  resource: string;
  /** Condition keys of the request (`ecs:cluster`, `iam:PassedToService`, `s3:prefix` …). */
  context?: Record<string, string>;
}

/** What the emulator knows that the request does not carry (a family's latest revision, a deployment's group). */
export interface IamLookup {
  taskDefinition(ref: string): { taskDefinitionArn: string; body: Record<string, unknown> } | undefined;
  /** `application/deploymentGroup` of a CodeDeploy deployment. */
  deploymentGroupOf(deploymentId: string): string | undefined;
}

export interface IamRequest {
  region: string;
  account: string;
  /** awsJson request body, parsed; `{}` for REST calls. */
  input: Record<string, unknown>;
  /** awsJson answer, parsed, when the call succeeded. */
  output?: Record<string, unknown>;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
}

type Obj = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** An ARN as given, or the name inside `arn:aws:<service>:<region>:<account>:<prefix>` when it is not one. */
function arnOr(ref: string, build: (name: string) => string): string {
  return ref.startsWith('arn:') ? ref : build(ref);
}

/** iam:PassRole of each role ARN, to the service that will assume it (IAM user guide, "Grant a user permissions to pass a role"). */
function passRoles(roles: (string | undefined)[], service: string): IamCall[] {
  return [...new Set(roles.filter((r): r is string => r !== undefined))].map((role) => ({
    action: 'iam:PassRole',
    resource: role,
    context: { 'iam:PassedToService': service },
  }));
}

function ecsCalls(op: string, r: IamRequest, lookup: IamLookup): IamCall[] {
  const base = `arn:aws:ecs:${r.region}:${r.account}`;
  const i = r.input;
  const clusterName = (ref: string | undefined) => (ref ?? 'default').replace(/^arn:[^:]+:ecs:[^:]*:\d*:cluster\//, '');
  const cluster = clusterName(str(i.cluster));
  const clusterArn = `${base}:cluster/${cluster}`;
  const inCluster = { 'ecs:cluster': clusterArn };
  const service = (ref: string) => arnOr(ref, (n) => `${base}:service/${cluster}/${n}`);
  const task = (ref: string) => arnOr(ref, (id) => `${base}:task/${cluster}/${id}`);
  const taskDef = (ref: string) => lookup.taskDefinition(ref);
  const action = `ecs:${op}`;
  switch (op) {
    case 'DescribeServices':
      return list(i.services).map((s) => ({ action, resource: service(s), context: inCluster }));
    case 'UpdateService':
    case 'ListServiceDeployments':
    case 'CreateService':
      return [{ action, resource: service(str(i.service) ?? str(i.serviceName) ?? ''), context: inCluster }];
    case 'DescribeServiceDeployments':
      return list(i.serviceDeploymentArns).map((arn) => ({ action, resource: arn }));
    case 'StopServiceDeployment':
    case 'ContinueServiceDeployment':
      return [{ action, resource: str(i.serviceDeploymentArn) ?? '' }];
    case 'DescribeServiceRevisions':
      return list(i.serviceRevisionArns).map((arn) => ({ action, resource: arn }));
    case 'DescribeTasks':
      return list(i.tasks).map((t) => ({ action, resource: task(t), context: inCluster }));
    case 'StopTask':
      return [{ action, resource: task(str(i.task) ?? ''), context: inCluster }];
    case 'ListTasks':
      // The SAR names container-instance as ListTasks' resource type; a listing is checked
      // against the cluster's instances as a whole (modelled, not documented).
      return [{ action, resource: `${base}:container-instance/${cluster}/*`, context: inCluster }];
    case 'DescribeClusters':
      return (list(i.clusters).length ? list(i.clusters) : ['default']).map((c) => ({
        action,
        resource: `${base}:cluster/${clusterName(c)}`,
      }));
    case 'DescribeTaskDefinition':
    case 'ListTaskDefinitions':
    case 'DeregisterTaskDefinition':
      return [{ action, resource: '*' }];
    case 'RegisterTaskDefinition': {
      const registered = str((r.output?.taskDefinition as Obj | undefined)?.taskDefinitionArn);
      const resource = registered ?? `${base}:task-definition/${str(i.family) ?? ''}:*`;
      return [
        { action, resource },
        // Tagging on create: ecs:TagResource with ecs:CreateAction (ECS developer guide, "Grant permission to tag resources on creation").
        ...(list((i.tags as Obj[] | undefined)?.map((t) => t.key)).length
          ? [{ action: 'ecs:TagResource', resource, context: { 'ecs:CreateAction': 'RegisterTaskDefinition' } }]
          : []),
        // A task definition names the roles ECS will assume for its tasks: registering it passes them (modelled, not documented:
        // the RegisterTaskDefinition AccessDenied users report names iam:PassRole on those roles).
        ...passRoles([str(i.taskRoleArn), str(i.executionRoleArn)], 'ecs-tasks.amazonaws.com'),
      ];
    }
    case 'RunTask': {
      const def = taskDef(str(i.taskDefinition) ?? '');
      const resource = def?.taskDefinitionArn ?? arnOr(str(i.taskDefinition) ?? '', (n) => `${base}:task-definition/${n}`);
      const overrides = (i.overrides ?? {}) as Obj;
      const started = (r.output?.tasks as Obj[] | undefined)?.map((t) => str(t.taskArn)).filter((a): a is string => a !== undefined) ?? [];
      return [
        { action, resource, context: inCluster },
        // "Amazon ECS EventBridge IAM role": a caller of RunTask needs iam:PassRole for the task execution role,
        // the task role and any task role override.
        ...passRoles(
          [str(def?.body.taskRoleArn), str(def?.body.executionRoleArn), str(overrides.taskRoleArn), str(overrides.executionRoleArn)],
          'ecs-tasks.amazonaws.com',
        ),
        ...(Array.isArray(i.tags) && i.tags.length
          ? (started.length ? started : [`${base}:task/${cluster}/*`]).map((t) => ({
              action: 'ecs:TagResource',
              resource: t,
              context: { 'ecs:CreateAction': 'RunTask', ...inCluster },
            }))
          : []),
      ];
    }
    case 'TagResource':
    case 'ListTagsForResource':
      return [{ action, resource: str(i.resourceArn) ?? '' }];
    default:
      return [{ action, resource: '*' }];
  }
}

function ecrCalls(op: string, r: IamRequest): IamCall[] {
  const action = `ecr:${op}`;
  if (op === 'GetAuthorizationToken') return [{ action, resource: '*' }];
  const account = str(r.input.registryId) ?? r.account;
  const names = op === 'DescribeRepositories' ? list(r.input.repositoryNames) : [str(r.input.repositoryName) ?? ''];
  return names.map((n) => ({ action, resource: `arn:aws:ecr:${r.region}:${account}:repository/${n}` }));
}

function ssmCalls(op: string, r: IamRequest): IamCall[] {
  const action = `ssm:${op}`;
  if (op === 'DescribeParameters') return [{ action, resource: '*' }];
  const names = op === 'GetParameters' ? list(r.input.Names) : [str(r.input.Name) ?? ''];
  // A parameter's ARN drops the name's leading slash: parameter/delivery/x for /delivery/x.
  return names.map((n) => ({
    action,
    resource: arnOr(n.replace(/:\d+$/, ''), (x) => `arn:aws:ssm:${r.region}:${r.account}:parameter/${x.replace(/^\//, '')}`),
  }));
}

function secretsCalls(op: string, r: IamRequest): IamCall[] {
  const id = str(r.input.SecretId) ?? '';
  // The full ARN ends in a 6-character suffix the caller may not know; a name resolves to it.
  const resource = str(r.output?.ARN) ?? arnOr(id, (n) => `arn:aws:secretsmanager:${r.region}:${r.account}:secret:${n}-??????`);
  return [{ action: `secretsmanager:${op}`, resource }];
}

function logsCalls(op: string, r: IamRequest): IamCall[] {
  const action = `logs:${op}`;
  const group = str(r.input.logGroupName) ?? str(r.input.logGroupIdentifier);
  const groupArn = (g: string) => arnOr(g, (n) => `arn:aws:logs:${r.region}:${r.account}:log-group:${n}`).replace(/:\*$/, '');
  if (op === 'GetLogEvents') return [{ action, resource: `${groupArn(group ?? '')}:log-stream:${str(r.input.logStreamName) ?? ''}` }];
  if (op === 'DescribeLogGroups') return [{ action, resource: '*' }];
  return [{ action, resource: `${groupArn(group ?? '')}:*` }];
}

function eventsCalls(op: string, r: IamRequest): IamCall[] {
  const action = `events:${op}`;
  if (op === 'ListEventBuses' || op === 'ListRuleNamesByTarget') return [{ action, resource: '*' }];
  const bus = str(r.input.EventBusName);
  const rule = str(r.input.Rule) ?? str(r.input.Name) ?? '';
  const resource = arnOr(rule, (n) => `arn:aws:events:${r.region}:${r.account}:rule/${bus && bus !== 'default' ? `${bus}/` : ''}${n}`);
  const targets = op === 'PutTargets' ? ((r.input.Targets as Obj[] | undefined) ?? []) : [];
  // A target's RoleArn is the role EventBridge assumes to run the task: putting it passes it.
  return [
    { action, resource },
    ...passRoles(
      targets.map((t) => str(t.RoleArn)),
      'events.amazonaws.com',
    ),
  ];
}

function schedulerCalls(op: string, r: IamRequest, body: Obj): IamCall[] {
  const action = `scheduler:${op}`;
  if (op === 'ListSchedules') return [{ action, resource: '*' }];
  const name = decodeURIComponent(r.path.slice('/schedules/'.length));
  const group = str(body.GroupName) ?? r.query.get('groupName') ?? 'default';
  const resource = `arn:aws:scheduler:${r.region}:${r.account}:schedule/${group}/${name}`;
  const role = str((body.Target as Obj | undefined)?.RoleArn);
  return [{ action, resource }, ...(op === 'GetSchedule' ? [] : passRoles([role], 'scheduler.amazonaws.com'))];
}

function codedeployCalls(op: string, r: IamRequest, lookup: IamLookup): IamCall[] {
  const action = `codedeploy:${op}`;
  // The SAR gives these no resource type.
  if (op === 'ListDeploymentTargets' || op === 'GetDeploymentTarget' || op === 'StopDeployment') return [{ action, resource: '*' }];
  const base = `arn:aws:codedeploy:${r.region}:${r.account}`;
  const app = str(r.input.applicationName);
  const named = app ? `${app}/${str(r.input.deploymentGroupName) ?? ''}` : undefined;
  const group = named ?? lookup.deploymentGroupOf(str(r.input.deploymentId) ?? '') ?? '*/*';
  const calls: IamCall[] = [{ action, resource: `${base}:deploymentgroup:${group}` }];
  if (op === 'CreateDeployment') {
    // Modelled, not documented: CreateDeployment also checks the deployment configuration it uses
    // and registers the revision it deploys (see CONTRACT.md "IAM").
    const config = str(r.input.deploymentConfigName) ?? 'CodeDeployDefault.ECSAllAtOnce';
    calls.push(
      { action: 'codedeploy:GetDeploymentConfig', resource: `${base}:deploymentconfig:${config}` },
      { action: 'codedeploy:RegisterApplicationRevision', resource: `${base}:application:${app ?? ''}` },
    );
  }
  return calls;
}

function cloudfrontCalls(op: string, r: IamRequest): IamCall[] {
  const id = /\/distribution\/([^/]+)/.exec(r.path)?.[1] ?? '';
  return [{ action: `cloudfront:${op}`, resource: `arn:aws:cloudfront::${r.account}:distribution/${id}` }];
}

/**
 * The authorizations one call needs. Services the suite calls with no permission at all
 * (sts:GetCallerIdentity: "No permissions are required to perform this operation", API reference)
 * give none.
 */
export function iamCalls(service: string, operation: string, r: IamRequest, lookup: IamLookup): IamCall[] {
  switch (service) {
    case 'ECS':
      return ecsCalls(operation, r, lookup);
    case 'ECR':
      return ecrCalls(operation, r);
    case 'SSM':
      return ssmCalls(operation, r);
    case 'SecretsManager':
      return secretsCalls(operation, r);
    case 'CloudWatchLogs':
      return logsCalls(operation, r);
    case 'EventBridge':
      return eventsCalls(operation, r);
    case 'Scheduler':
      return schedulerCalls(operation, r, r.input);
    case 'CodeDeploy':
      return codedeployCalls(operation, r, lookup);
    case 'CloudFront':
      return cloudfrontCalls(operation, r);
    case 'STS':
      return operation === 'GetCallerIdentity' ? [] : [{ action: `sts:${operation}`, resource: '*' }];
    default:
      return [{ action: `${service.toLowerCase()}:${operation}`, resource: '*' }];
  }
}
