export const id = 157;
export const ids = [157];
export const modules = {

/***/ 4157:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  deployCodeDeploy: () => (/* binding */ deployCodeDeploy)
});

// EXTERNAL MODULE: ./node_modules/@aws-sdk/client-codedeploy/dist-cjs/index.js
var dist_cjs = __webpack_require__(7507);
// EXTERNAL MODULE: ./node_modules/@aws-sdk/client-ecs/dist-cjs/index.js
var client_ecs_dist_cjs = __webpack_require__(212);
// EXTERNAL MODULE: ./lib/errors.ts
var errors = __webpack_require__(8115);
// EXTERNAL MODULE: ./lib/taskdef.ts
var taskdef = __webpack_require__(230);
// EXTERNAL MODULE: ./actions/deploy-ecs/family-guard.ts
var family_guard = __webpack_require__(746);
// EXTERNAL MODULE: ./actions/deploy-ecs/judge.ts
var judge = __webpack_require__(2015);
// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(3024);
// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(7598);
// EXTERNAL MODULE: ./node_modules/yaml/dist/index.js
var dist = __webpack_require__(8815);
;// CONCATENATED MODULE: ./actions/deploy-ecs/codedeploy/appspec.ts
/**
 * The AppSpec of an ECS deployment (pure): the user's file with the new task definition ARN put in,
 * or one generated from the service's load balancer (AppSpec "Resources" section for ECS:
 * docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-resources.html).
 * AppSpec files may be YAML or JSON; CodeDeploy accepts either as content, we send JSON.
 */




function readAppSpec(path) {
    let spec;
    try {
        spec = (0,dist/* parse */.qg)((0,external_node_fs_.readFileSync)(path, 'utf8'));
    }
    catch (err) {
        const line = err.linePos?.[0]?.line;
        throw new errors/* ActionError */.lZ(`AppSpec file '${path}' is not valid YAML or JSON: ${err.message.split('\n')[0]}`, {
            input: 'codedeploy-appspec',
            file: path,
            line,
            fix: 'Fix the syntax (see the AppSpec reference for ECS).',
        });
    }
    const props = spec?.Resources?.[0]?.TargetService?.Properties;
    if (!props || typeof props !== 'object') {
        throw new errors/* ActionError */.lZ(`AppSpec file '${path}' has no Resources[0].TargetService.Properties.`, {
            input: 'codedeploy-appspec',
            file: path,
            field: 'Resources',
            fix: 'Write Resources: - TargetService: { Type: AWS::ECS::Service, Properties: { TaskDefinition: <any>, LoadBalancerInfo: { ' +
                'ContainerName, ContainerPort } } }.',
        });
    }
    return { spec: spec, source: path };
}
/** Generated from the service: its (first) load balancer's container name and port. */
function generatedAppSpec(service) {
    const lb = service.loadBalancers?.find((l) => l.containerName && l.containerPort);
    if (!lb) {
        throw new errors/* ActionError */.lZ(`Service '${service.serviceName}' has no load balancer with a container name and port to generate the AppSpec from.`, { input: 'codedeploy-appspec', fix: 'Give codedeploy-appspec: an AppSpec file naming the container and port.' });
    }
    return {
        spec: {
            version: 0.0,
            Resources: [
                {
                    TargetService: {
                        Type: 'AWS::ECS::Service',
                        Properties: { TaskDefinition: '', LoadBalancerInfo: { ContainerName: lb.containerName, ContainerPort: lb.containerPort } },
                    },
                },
            ],
        },
        source: `generated from the service's load balancer (${lb.containerName}:${lb.containerPort})`,
    };
}
/** The content CreateDeployment gets: the template with this task definition ARN, and its SHA-256. */
function appSpecContent(t, taskDefinitionArn) {
    const spec = structuredClone(t.spec);
    spec.Resources[0].TargetService.Properties.TaskDefinition = taskDefinitionArn;
    const content = JSON.stringify(spec);
    return { content, sha256: (0,external_node_crypto_.createHash)('sha256').update(content).digest('hex') };
}

;// CONCATENATED MODULE: ./actions/deploy-ecs/codedeploy/follow.ts
/**
 * Following a CodeDeploy deployment: GetDeployment for its status, and the ECS target's lifecycle
 * events (ListDeploymentTargets / GetDeploymentTarget) for progress lines and, on failure, the
 * event that failed. A progress line is printed on every change, never on an unchanged poll.
 */



const TERMINAL = new Set(['Succeeded', 'Failed', 'Stopped']);
/** Lines from AWS are data, not workflow commands. */
function verbatim(report, lines) {
    const token = (0,external_node_crypto_.randomUUID)();
    report.info(`::stop-commands::${token}`);
    for (const l of lines)
        report.info(l);
    report.info(`::${token}::`);
}
async function lifecycle(deps, id) {
    const targets = await deps.codedeploy.send(new dist_cjs.ListDeploymentTargetsCommand({ deploymentId: id }));
    const targetId = targets.targetIds?.[0];
    if (!targetId)
        return [];
    const t = await deps.codedeploy.send(new dist_cjs.GetDeploymentTargetCommand({ deploymentId: id, targetId }));
    return t.deploymentTarget?.ecsTarget?.lifecycleEvents ?? [];
}
async function followDeployment(deps, id, opts) {
    let last = '';
    const seen = new Map();
    let events = [];
    let info;
    const aborted = new Promise((r) => deps.signal?.addEventListener('abort', r, { once: true }));
    for (;;) {
        if (deps.signal?.aborted)
            return { info, events, timedOut: false, cancelled: true };
        info = (await deps.codedeploy.send(new dist_cjs.GetDeploymentCommand({ deploymentId: id }))).deploymentInfo;
        const status = info?.status ?? 'Unknown';
        if (status !== last)
            deps.report.info(`CodeDeploy ${id}: ${status}`);
        last = status;
        if (status !== 'Created' && status !== 'Queued') {
            events = await lifecycle(deps, id).catch((err) => {
                deps.report.warning(`Cannot read the lifecycle events of ${id}: ${(0,errors/* describeUnknown */.Ee)(err)}`);
                return events;
            });
            for (const e of events) {
                if (e.lifecycleEventName && e.status && seen.get(e.lifecycleEventName) !== e.status && e.status !== 'Pending') {
                    seen.set(e.lifecycleEventName, e.status);
                    deps.report.info(`  ${e.lifecycleEventName}: ${e.status}`);
                }
            }
        }
        if (TERMINAL.has(status))
            return { status, info, events, failedEvent: events.find((e) => e.status === 'Failed'), timedOut: false, cancelled: false };
        if (deps.now() + opts.intervalMs > opts.deadline)
            return { info, events, timedOut: true, cancelled: false };
        await Promise.race([deps.sleep(opts.intervalMs), aborted]);
    }
}
/** StopDeployment with CodeDeploy's own rollback, then one look at the result. */
async function stopWithRollback(deps, id) {
    try {
        const out = await deps.codedeploy.send(new dist_cjs.StopDeploymentCommand({ deploymentId: id, autoRollbackEnabled: true }));
        deps.report.info(`StopDeployment ${id} (autoRollbackEnabled): ${out.status ?? ''}`.trim());
        const info = (await deps.codedeploy.send(new dist_cjs.GetDeploymentCommand({ deploymentId: id }))).deploymentInfo;
        verbatim(deps.report, [out.statusMessage ?? '', info?.rollbackInfo?.rollbackMessage ?? ''].filter(Boolean));
        return {
            stopped: true,
            rolledBack: !!info?.rollbackInfo,
            note: `CodeDeploy status ${info?.status ?? 'unknown'}${info?.rollbackInfo?.rollbackMessage ? `: ${info.rollbackInfo.rollbackMessage}` : ''}`,
        };
    }
    catch (err) {
        return { stopped: false, rolledBack: false, note: `StopDeployment failed: ${(0,errors/* describeUnknown */.Ee)(err)}` };
    }
}

;// CONCATENATED MODULE: ./actions/deploy-ecs/codedeploy/run.ts
/**
 * Deploying a CODE_DEPLOY service: every check before any write (the service uses CodeDeploy, the
 * deployment group exists, the AppSpec can be built), then register the task definition only when
 * it changed, CreateDeployment with the AppSpec, follow it, and on failure print CodeDeploy's
 * errorInformation and the lifecycle event that failed. Cancel and timeout stop the deployment
 * with CodeDeploy's rollback (StopDeployment autoRollbackEnabled).
 */








async function checks(inputs, cd, deps) {
    const name = inputs.services[0];
    const svc = (await deps.ecs.send(new client_ecs_dist_cjs/* DescribeServicesCommand */.H7c({ cluster: inputs.cluster, services: [name] }))).services?.[0];
    if (!svc || svc.status !== 'ACTIVE')
        throw new errors/* ActionError */.lZ(`Service '${name}' was not found (or is not ACTIVE) in cluster '${inputs.cluster}'.`, {
            input: 'services',
            fix: 'Check the service and cluster names and the region.',
        });
    const controller = svc.deploymentController?.type ?? 'ECS';
    if (controller !== 'CODE_DEPLOY') {
        throw new errors/* ActionError */.lZ(`Service '${name}' uses the ${controller} deployment controller, but codedeploy-application / codedeploy-deployment-group are set.`, { input: 'codedeploy-application', fix: 'Remove the codedeploy-* inputs: this action deploys ECS-controller services itself.' });
    }
    const group = await deps.codedeploy
        .send(new dist_cjs.GetDeploymentGroupCommand({ applicationName: cd.application, deploymentGroupName: cd.deploymentGroup }))
        .catch((err) => {
        throw new errors/* ActionError */.lZ(`CodeDeploy deployment group '${cd.application}/${cd.deploymentGroup}' cannot be read: ${(0,errors/* describeUnknown */.Ee)(err)}.`, {
            input: 'codedeploy-deployment-group',
            fix: 'Check codedeploy-application and codedeploy-deployment-group (aws deploy list-deployment-groups --application-name …) and the region.',
        });
    });
    const ecsServices = group.deploymentGroupInfo?.ecsServices ?? [];
    const cluster = svc.clusterArn?.split('/').pop();
    if (ecsServices.length &&
        !ecsServices.some((s) => s.serviceName === name && (s.clusterName === cluster || s.clusterName === svc.clusterArn))) {
        throw new errors/* ActionError */.lZ(`Deployment group '${cd.deploymentGroup}' deploys ${ecsServices.map((s) => `${s.clusterName}/${s.serviceName}`).join(', ')}, not ${cluster}/${name}.`, { input: 'codedeploy-deployment-group', fix: 'Use the deployment group of this service.' });
    }
    // The family guard, as for ECS-controller services (family-guard.ts).
    const td = inputs.taskDefinition;
    const family = td.kind === 'file' ? (0,taskdef/* readTaskDefinitionFile */.BD)(td.path).family : (0,family_guard/* familyOf */.A)(td.ref);
    const from = (0,family_guard/* familyOf */.A)(svc.taskDefinition);
    if (family && from && family !== from && !inputs.allowFamilyChange) {
        throw new errors/* ActionError */.lZ(`Service '${name}' runs task-definition family '${from}'; this would move it to '${family}'.`, {
            input: 'task-definition',
            fix: `Deploy a revision of '${from}', or set allow-family-change: true if the move is intended.`,
        });
    }
    const template = cd.appspec ? readAppSpec(cd.appspec) : generatedAppSpec(svc);
    return { svc, template };
}
async function deployCodeDeploy(inputs, cd, deps) {
    const { report } = deps;
    const started = deps.now();
    const service = inputs.services[0];
    const td = inputs.taskDefinition;
    const def = td.kind === 'file' ? (0,taskdef/* readTaskDefinitionFile */.BD)(td.path) : undefined;
    const { svc, template } = await report.group('Checks before the deploy (CodeDeploy)', async () => {
        const c = await checks(inputs, cd, deps);
        report.info(`${service}: CODE_DEPLOY, runs ${(0,judge/* revisionOf */.DT)(c.svc.taskDefinition)}; deployment group ${cd.application}/${cd.deploymentGroup}; ` +
            `AppSpec ${c.template.source}`);
        return c;
    });
    const before = svc.taskDefinition ?? '';
    const base = {
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
    const finish = (r) => ({ ...r, durationSeconds: Math.round((deps.now() - started) / 100) / 10 });
    if (inputs.dryRun) {
        const line = `would register ${def ? `a revision of ${def.family} if it changed` : 'nothing (existing revision)'} and create a ` +
            `CodeDeploy deployment in ${cd.application}/${cd.deploymentGroup} (AppSpec ${template.source})`;
        report.info(line);
        return finish({
            ...base,
            dryRun: { register: line, lines: [line, `${service}: would deploy through CodeDeploy (runs ${(0,judge/* revisionOf */.DT)(before)})`], diffs: [] },
            services: [{ service, before, after: '', result: 'planned', durationMs: 0 }],
        });
    }
    if (deps.signal?.aborted)
        return finish({
            ...base,
            status: 'cancelled',
            services: [{ service, before, after: '', result: 'cancelled', durationMs: 0 }],
            error: new errors/* ActionError */.lZ('deploy-ecs was cancelled before any write.', { fix: 'Re-run the workflow to deploy.' }),
        });
    const reg = await report.group('Task definition', async () => {
        if (def) {
            const r = await (0,taskdef/* registerIfChanged */.Lh)(deps.ecs, def);
            report.info(r.changed ? `registered ${r.arn}` : `unchanged: ${r.arn} already matches`);
            return { arn: r.arn, changed: r.changed, image: r.taskDefinition.containerDefinitions?.[0]?.image ?? '' };
        }
        const got = await deps.ecs.send(new client_ecs_dist_cjs/* DescribeTaskDefinitionCommand */.Zy$({ taskDefinition: td.ref }));
        return {
            arn: got.taskDefinition.taskDefinitionArn,
            changed: false,
            image: got.taskDefinition?.containerDefinitions?.[0]?.image ?? '',
        };
    });
    const { content, sha256 } = appSpecContent(template, reg.arn);
    const created = await report.group('CodeDeploy deployment', () => deps.codedeploy.send(new dist_cjs.CreateDeploymentCommand({
        applicationName: cd.application,
        deploymentGroupName: cd.deploymentGroup,
        description: `deploy-ecs: ${(0,judge/* revisionOf */.DT)(reg.arn)}`,
        revision: { revisionType: 'AppSpecContent', appSpecContent: { content, sha256 } },
    })));
    const id = created.deploymentId;
    report.info(`${service}: ${(0,judge/* revisionOf */.DT)(before)} → ${(0,judge/* revisionOf */.DT)(reg.arn)}, CodeDeploy deployment ${id}`);
    const deadline = started + inputs.timeoutMinutes * 60_000;
    const followed = await report.group(`Wait for CodeDeploy ${id}`, () => followDeployment(deps, id, { intervalMs: inputs.pollIntervalSeconds * 1000, deadline }));
    const lifecycle = followed.events.map((e) => ({ name: e.lifecycleEventName ?? '', status: e.status ?? '' }));
    const out = {
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
    if (followed.status === 'Succeeded')
        return finish({ ...out, services: [{ ...row, result: 'succeeded' }] });
    if (followed.status === 'Failed' || followed.status === 'Stopped') {
        const err = followed.info?.errorInformation;
        const ev = followed.failedEvent;
        const reason = `CodeDeploy ` +
            `${followed.status}${ev ? ` at lifecycle event ${ev.lifecycleEventName}` : ''}${err ? `: ${err.code ?? ''} ${err.message ?? ''}`.trimEnd() : ''}`;
        report.warning(`${service}: CodeDeploy deployment ${id} ${followed.status}${ev ? ` at lifecycle event ${ev.lifecycleEventName}` : ''}.`);
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
            error: new errors/* ActionError */.lZ(`${service}: ${reason}.`, {
                fix: `See the deployment in the CodeDeploy console (${id}) and the lifecycle hook that failed.`,
            }),
        });
    }
    // Timed out or cancelled: stop it and let CodeDeploy roll back to the original task set.
    const why = followed.cancelled ? 'cancelled' : 'timed-out';
    report.warning(`${service}: ${why === 'cancelled' ? 'the workflow was cancelled' : `timed out after timeout-minutes ${inputs.timeoutMinutes}`}; ` +
        `stopping CodeDeploy deployment ${id} with rollback.`);
    const stop = await stopWithRollback(deps, id);
    const reason = `${why === 'cancelled' ? 'cancelled' : 'timed out'}; ${stop.note}`;
    return finish({
        ...out,
        status: why,
        rolledBack: stop.rolledBack,
        services: [{ ...row, result: why, reason }],
        error: new errors/* ActionError */.lZ(`${service}: the CodeDeploy deployment ${id} was ${why === 'cancelled' ? 'cancelled' : 'not finished in time'} and ` +
            `${stop.stopped ? 'stopped with rollback' : 'could not be stopped'}.`, { fix: stop.stopped ? 'Re-run to deploy again.' : `Stop it in the CodeDeploy console (${id}).` }),
    });
}


/***/ })

};
