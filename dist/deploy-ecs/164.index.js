export const id = 164;
export const ids = [164,735];
export const modules = {

/***/ 2735:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   leftInPlace: () => (/* binding */ leftInPlace),
/* harmony export */   moveScheduledTasks: () => (/* binding */ moveScheduledTasks),
/* harmony export */   scheduledMarkdown: () => (/* binding */ scheduledMarkdown)
/* harmony export */ });
/* harmony import */ var _aws_sdk_client_eventbridge__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(6612);
/* harmony import */ var _aws_sdk_client_scheduler__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(768);
/* harmony import */ var _lib_errors_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(8115);
/* harmony import */ var _lib_markdown_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(8473);
/* harmony import */ var _judge_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(2015);
/**
 * Moving each scheduled task to the new revision once every service is steady on it. Only the
 * task definition changes: UpdateSchedule replaces the whole schedule ("uses all values, including
 * empty values … and overrides the existing schedule", API_UpdateSchedule), so it gets back every
 * field GetSchedule returned; PutTargets replaces the whole target, so it gets the target as
 * ListTargetsByRule returned it. Both are read again just before the write, so a change made
 * during the deploy is kept, and a target someone else moved meanwhile is left alone.
 */





async function moveSchedule(deps, t, arn) {
    const base = { label: t.label, before: t.taskDefinitionArn, after: arn };
    const got = await deps.scheduler.send(new _aws_sdk_client_scheduler__WEBPACK_IMPORTED_MODULE_1__.GetScheduleCommand({ Name: t.name, GroupName: t.owner }));
    const now = got.Target?.EcsParameters?.TaskDefinitionArn;
    if (now === arn)
        return { ...base, result: 'unchanged', reason: 'already on this revision' };
    if (now !== t.taskDefinitionArn)
        return { ...base, result: 'skipped', reason: `changed to ${(0,_judge_js__WEBPACK_IMPORTED_MODULE_2__/* .revisionOf */ .DT)(now)} by someone else during the deploy; left as it is` };
    // Everything GetSchedule returned except what is read-only (Arn, CreationDate, LastModificationDate).
    const { $metadata: _m, Arn: _a, CreationDate: _c, LastModificationDate: _l, ...schedule } = got;
    await deps.scheduler.send(new _aws_sdk_client_scheduler__WEBPACK_IMPORTED_MODULE_1__.UpdateScheduleCommand({
        ...schedule,
        Name: t.name,
        GroupName: t.owner,
        ScheduleExpression: got.ScheduleExpression,
        FlexibleTimeWindow: got.FlexibleTimeWindow,
        Target: {
            ...got.Target,
            Arn: got.Target.Arn,
            RoleArn: got.Target.RoleArn,
            EcsParameters: { ...got.Target.EcsParameters, TaskDefinitionArn: arn },
        },
    }));
    return { ...base, result: 'moved' };
}
async function moveRuleTarget(deps, t, arn) {
    const base = { label: t.label, before: t.taskDefinitionArn, after: arn };
    let target;
    let NextToken;
    do {
        const page = await deps.events.send(new _aws_sdk_client_eventbridge__WEBPACK_IMPORTED_MODULE_3__.ListTargetsByRuleCommand({ Rule: t.name, EventBusName: t.owner, NextToken }));
        target = page.Targets?.find((x) => x.Id === t.targetId);
        NextToken = target ? undefined : page.NextToken;
    } while (NextToken);
    if (!target?.EcsParameters)
        return { ...base, result: 'skipped', reason: `target ${t.targetId} was removed during the deploy` };
    const now = target.EcsParameters.TaskDefinitionArn;
    if (now === arn)
        return { ...base, result: 'unchanged', reason: 'already on this revision' };
    if (now !== t.taskDefinitionArn)
        return { ...base, result: 'skipped', reason: `changed to ${(0,_judge_js__WEBPACK_IMPORTED_MODULE_2__/* .revisionOf */ .DT)(now)} by someone else during the deploy; left as it is` };
    const out = await deps.events.send(new _aws_sdk_client_eventbridge__WEBPACK_IMPORTED_MODULE_3__.PutTargetsCommand({
        Rule: t.name,
        EventBusName: t.owner,
        Targets: [{ ...target, EcsParameters: { ...target.EcsParameters, TaskDefinitionArn: arn } }],
    }));
    const failed = out.FailedEntries?.[0];
    if (out.FailedEntryCount || failed)
        return { ...base, result: 'failed', reason: `PutTargets: ${failed?.ErrorCode ?? 'failed'}: ${failed?.ErrorMessage ?? ''}`.trim() };
    return { ...base, result: 'moved' };
}
/** Moves every target (one at a time: a handful at most, and the log reads in order); a failure does not stop the others. */
async function moveScheduledTasks(deps, targets, arn) {
    const out = [];
    for (const t of targets) {
        let m;
        try {
            m = t.kind === 'schedule' ? await moveSchedule(deps, t, arn) : await moveRuleTarget(deps, t, arn);
        }
        catch (err) {
            m = { label: t.label, before: t.taskDefinitionArn, after: arn, result: 'failed', reason: (0,_lib_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .describeUnknown */ .Ee)(err) };
        }
        const line = `${m.label}: ${(0,_judge_js__WEBPACK_IMPORTED_MODULE_2__/* .revisionOf */ .DT)(m.before)} → ${(0,_judge_js__WEBPACK_IMPORTED_MODULE_2__/* .revisionOf */ .DT)(m.after)}: ${m.result}${m.reason ? ` (${m.reason})` : ''}`;
        if (m.result === 'failed' || m.result === 'skipped')
            deps.report.warning(line);
        else
            deps.report.info(line);
        out.push(m);
    }
    return out;
}
/** What happens to the targets when the services do not end steady on the new revision: nothing. */
function leftInPlace(targets, arn, result, reason) {
    return targets.map((t) => ({ label: t.label, before: t.taskDefinitionArn, after: arn, result, reason }));
}
const ICON = {
    moved: '✅ moved',
    unchanged: '➖ unchanged',
    planned: '📝 planned',
    'not moved': '↩️ not moved',
    skipped: '⚠️ skipped',
    failed: '❌ failed',
};
function scheduledMarkdown(moves) {
    if (!moves.length)
        return '';
    const rows = moves.map((m) => [
        (0,_lib_markdown_js__WEBPACK_IMPORTED_MODULE_4__/* .code */ .a)(m.label),
        (0,_judge_js__WEBPACK_IMPORTED_MODULE_2__/* .revisionOf */ .DT)(m.before),
        (0,_judge_js__WEBPACK_IMPORTED_MODULE_2__/* .revisionOf */ .DT)(m.after),
        `${ICON[m.result]}${m.reason ? `: ${m.reason}` : ''}`,
    ]);
    return `\n#### Scheduled tasks\n\n${(0,_lib_markdown_js__WEBPACK_IMPORTED_MODULE_4__/* .markdownTable */ .Q)(['schedule / rule', 'before', 'after', 'result'], rows)}\n`;
}


/***/ }),

/***/ 9164:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  findScheduled: () => (/* binding */ findScheduled),
  moveScheduled: () => (/* binding */ moveScheduled)
});

// EXTERNAL MODULE: ./node_modules/@aws-sdk/client-ecs/dist-cjs/index.js
var dist_cjs = __webpack_require__(212);
// EXTERNAL MODULE: ./lib/errors.ts
var errors = __webpack_require__(8115);
// EXTERNAL MODULE: ./lib/taskdef.ts
var taskdef = __webpack_require__(230);
// EXTERNAL MODULE: ./actions/deploy-ecs/family-guard.ts
var family_guard = __webpack_require__(746);
// EXTERNAL MODULE: ./actions/deploy-ecs/judge.ts
var judge = __webpack_require__(2015);
// EXTERNAL MODULE: ./node_modules/@aws-sdk/client-eventbridge/dist-cjs/index.js
var client_eventbridge_dist_cjs = __webpack_require__(6612);
// EXTERNAL MODULE: ./node_modules/@aws-sdk/client-scheduler/dist-cjs/index.js
var client_scheduler_dist_cjs = __webpack_require__(768);
// EXTERNAL MODULE: ./actions/deploy-ecs/scheduled/refs.ts
var scheduled_refs = __webpack_require__(944);
;// CONCATENATED MODULE: ./actions/deploy-ecs/scheduled/find.ts
/**
 * Finding the scheduled tasks to move, read-only and before any write: each listed schedule or
 * rule must exist and run this task-definition family on this cluster (else the run fails naming
 * the line), and `auto` lists every schedule and rule of the region whose ECS target does.
 */





const notFound = (err) => err.name === 'ResourceNotFoundException';
/** Why an ECS target does not belong to this workload, or undefined when it does. */
function mismatch(clusterArn, taskDefinitionArn, w) {
    if (clusterArn !== w.clusterArn)
        return `its ECS target runs on ${clusterArn ?? 'no cluster'}, not ${w.clusterArn}`;
    const family = (0,family_guard/* familyOf */.A)(taskDefinitionArn);
    // A target naming the family without a revision runs the latest ACTIVE one: ECS moves it by itself.
    if (!family)
        return `its task definition ${taskDefinitionArn ?? '(none)'} names no revision (it follows the latest ACTIVE revision by itself)`;
    if (family !== w.family)
        return `it runs task-definition family '${family}', not '${w.family}'`;
    return undefined;
}
async function findSchedule(deps, group, name, w) {
    const label = `schedule:${group}/${name}`;
    const got = await deps.scheduler.send(new client_scheduler_dist_cjs.GetScheduleCommand({ Name: name, GroupName: group })).catch((err) => {
        if (notFound(err))
            throw new errors/* ActionError */.lZ(`${label} was not found.`, {
                input: scheduled_refs/* INPUT */.bO,
                fix: 'Check the group and name (aws scheduler list-schedules), and the region.',
            });
        throw new errors/* ActionError */.lZ(`${label} cannot be read: ${(0,errors/* describeUnknown */.Ee)(err)}.`, {
            input: scheduled_refs/* INPUT */.bO,
            fix: 'Allow scheduler:GetSchedule (see the README IAM policy).',
        });
    });
    const ecs = got.Target?.EcsParameters;
    if (!ecs)
        throw new errors/* ActionError */.lZ(`${label} does not start an ECS task (its target is ${got.Target?.Arn ?? 'missing'}).`, {
            input: scheduled_refs/* INPUT */.bO,
            fix: 'List only schedules whose target is an ECS task of these services.',
        });
    const why = mismatch(got.Target?.Arn, ecs.TaskDefinitionArn, w);
    if (why)
        throw new errors/* ActionError */.lZ(`${label}: ${why}.`, {
            input: scheduled_refs/* INPUT */.bO,
            fix: 'Remove it from scheduled-tasks, or deploy it with the family and cluster it runs.',
        });
    return { kind: 'schedule', label, owner: group, name, taskDefinitionArn: ecs.TaskDefinitionArn };
}
async function ruleTargets(deps, bus, name) {
    const out = [];
    let NextToken;
    do {
        const page = await deps.events.send(new client_eventbridge_dist_cjs.ListTargetsByRuleCommand({ Rule: name, EventBusName: bus, NextToken }));
        out.push(...(page.Targets ?? []));
        NextToken = page.NextToken;
    } while (NextToken);
    return out;
}
function ruleMatches(bus, name, targets, w) {
    const ecsTargets = targets.filter((t) => t.EcsParameters);
    const why = [];
    const found = [];
    for (const t of ecsTargets) {
        const m = mismatch(t.Arn, t.EcsParameters.TaskDefinitionArn, w);
        if (m)
            why.push(`target ${t.Id}: ${m}`);
        else
            found.push({
                kind: 'rule',
                label: `rule:${bus}/${name}`,
                owner: bus,
                name,
                targetId: t.Id,
                taskDefinitionArn: t.EcsParameters.TaskDefinitionArn,
            });
    }
    if (found.length > 1)
        for (const f of found)
            f.label += `#${f.targetId}`;
    if (!ecsTargets.length)
        why.push('it has no ECS target');
    return { found, why };
}
async function findRule(deps, bus, name, w) {
    const label = `rule:${bus}/${name}`;
    const targets = await ruleTargets(deps, bus, name).catch((err) => {
        if (notFound(err))
            throw new errors/* ActionError */.lZ(`${label} was not found.`, {
                input: scheduled_refs/* INPUT */.bO,
                fix: 'Check the event bus and rule name (aws events list-rules --event-bus-name <bus>), and the region.',
            });
        throw new errors/* ActionError */.lZ(`${label} cannot be read: ${(0,errors/* describeUnknown */.Ee)(err)}.`, {
            input: scheduled_refs/* INPUT */.bO,
            fix: 'Allow events:ListTargetsByRule (see the README IAM policy).',
        });
    });
    const { found, why } = ruleMatches(bus, name, targets, w);
    if (!found.length)
        throw new errors/* ActionError */.lZ(`${label} runs no ECS task of this workload: ${why.join('; ')}.`, {
            input: scheduled_refs/* INPUT */.bO,
            fix: 'Remove it from scheduled-tasks, or deploy it with the family and cluster it runs.',
        });
    return found;
}
/** `auto`: every schedule (all groups) and every rule (all buses) whose ECS target runs the family on the cluster. */
async function findAll(deps, w) {
    const out = [];
    let token;
    do {
        const page = await deps.scheduler.send(new client_scheduler_dist_cjs.ListSchedulesCommand({ NextToken: token }));
        // The summary names only the target ARN (the cluster): read the full schedule of those on ours.
        for (const s of page.Schedules ?? []) {
            if (s.Target?.Arn !== w.clusterArn)
                continue;
            const got = await deps.scheduler.send(new client_scheduler_dist_cjs.GetScheduleCommand({ Name: s.Name, GroupName: s.GroupName }));
            const ecs = got.Target?.EcsParameters;
            if (ecs && !mismatch(got.Target?.Arn, ecs.TaskDefinitionArn, w))
                out.push({
                    kind: 'schedule',
                    label: `schedule:${s.GroupName}/${s.Name}`,
                    owner: s.GroupName,
                    name: s.Name,
                    taskDefinitionArn: ecs.TaskDefinitionArn,
                });
        }
        token = page.NextToken;
    } while (token);
    const buses = [];
    let busToken;
    do {
        const page = await deps.events.send(new client_eventbridge_dist_cjs.ListEventBusesCommand({ NextToken: busToken }));
        buses.push(...(page.EventBuses ?? []).map((b) => b.Name ?? '').filter(Boolean));
        busToken = page.NextToken;
    } while (busToken);
    for (const bus of buses) {
        let ruleToken;
        do {
            const page = await deps.events.send(new client_eventbridge_dist_cjs.ListRuleNamesByTargetCommand({ TargetArn: w.clusterArn, EventBusName: bus, NextToken: ruleToken }));
            for (const rule of page.RuleNames ?? [])
                out.push(...ruleMatches(bus, rule, await ruleTargets(deps, bus, rule), w).found);
            ruleToken = page.NextToken;
        } while (ruleToken);
    }
    return out;
}
/** The targets the refs name, each once; problems with every listed one are reported together. */
async function findScheduledTasks(deps, refs, w) {
    const found = [];
    const problems = [];
    for (const ref of refs) {
        try {
            if (ref.kind === 'schedule')
                found.push(await findSchedule(deps, ref.group, ref.name, w));
            else if (ref.kind === 'rule')
                found.push(...(await findRule(deps, ref.bus, ref.name, w)));
            else
                found.push(...(await findAll(deps, w)));
        }
        catch (err) {
            if (!(err instanceof errors/* ActionError */.lZ))
                throw new errors/* ActionError */.lZ(`${(0,scheduled_refs/* refLabel */.E3)(ref)}: ${(0,errors/* describeUnknown */.Ee)(err)}`, {
                    input: scheduled_refs/* INPUT */.bO,
                    fix: 'Check the IAM policy in the README (scheduler:ListSchedules, scheduler:GetSchedule, events:ListEventBuses, ' +
                        'events:ListRuleNamesByTarget, events:ListTargetsByRule).',
                });
            problems.push(err);
        }
    }
    if (problems.length)
        throw (0,errors/* aggregate */.QD)('scheduled-tasks cannot be moved', problems);
    const seen = new Set();
    return found.filter((t) => !seen.has(`${t.label}#${t.targetId ?? ''}`) && !!seen.add(`${t.label}#${t.targetId ?? ''}`));
}

// EXTERNAL MODULE: ./actions/deploy-ecs/scheduled/move.ts
var move = __webpack_require__(2735);
;// CONCATENATED MODULE: ./actions/deploy-ecs/scheduled/phase.ts
/**
 * The scheduled-tasks phases around deploy(): find the targets before any write (bad input fails
 * there), and once the deploy is over move them only if every service ended steady on the new
 * revision. A failed, timed-out, cancelled or rolled-back deploy never moves them, so they stay on
 * the revision the services run again.
 */







/** Read-only. `inputs` are the prepared ones (task-definition: previous already resolved). */
async function findScheduled(inputs, deps) {
    if (!inputs.scheduledTasks.length)
        return [];
    return deps.report.group('Scheduled tasks', async () => {
        const td = inputs.taskDefinition;
        const family = td.kind === 'file' ? (0,taskdef/* readTaskDefinitionFile */.BD)(td.path).family : (0,family_guard/* familyOf */.A)(td.ref);
        // The cluster's ARN is what a schedule or rule names as its ECS target; DescribeServices (already allowed) gives it.
        const svc = (await deps.ecs.send(new dist_cjs/* DescribeServicesCommand */.H7c({ cluster: inputs.cluster, services: [inputs.services[0]] })))
            .services?.[0];
        if (!family || !svc?.clusterArn)
            throw new errors/* ActionError */.lZ('The task-definition family or the cluster ARN is unknown, so no scheduled task can be matched.', {
                input: 'scheduled-tasks',
                fix: 'Check task-definition, cluster and services.',
            });
        const targets = await findScheduledTasks(deps, inputs.scheduledTasks, { clusterArn: svc.clusterArn, family });
        for (const t of targets)
            deps.report.info(`${t.label}: runs ${(0,judge/* revisionOf */.DT)(t.taskDefinitionArn)}`);
        if (!targets.length)
            deps.report.info(`no schedule or rule runs ${family} on ${svc.clusterArn}`);
        return targets;
    });
}
/** After deploy(): the moves (or why nothing moved) and an error when a move failed. */
async function moveScheduled(result, targets, deps) {
    if (!targets.length)
        return { moves: [] };
    if (result.status === 'dry-run') {
        const after = result.taskDefinitionArn && !result.changed ? result.taskDefinitionArn : '(new revision)';
        const moves = (0,move.leftInPlace)(targets, after, 'planned', 'would move once every service is steady');
        for (const m of moves)
            deps.report.info(`${m.label}: would move ${(0,judge/* revisionOf */.DT)(m.before)} → ${(0,judge/* revisionOf */.DT)(m.after)} once every service is steady`);
        return { moves };
    }
    if (result.status !== 'succeeded' && result.status !== 'unchanged') {
        const ended = result.status === 'superseded' ? 'was replaced by another deployment' : result.status;
        const why = `the deploy ${ended}${result.rolledBack ? ' and was rolled back' : ''}; left on the revision it ran`;
        const moves = (0,move.leftInPlace)(targets, result.taskDefinitionArn, 'not moved', why);
        await deps.report.group('Scheduled tasks', async () => {
            for (const m of moves)
                deps.report.info(`${m.label}: stays on ${(0,judge/* revisionOf */.DT)(m.before)} (${why})`);
        });
        return { moves };
    }
    const moves = await deps.report.group(`Move ${targets.length} scheduled task(s) to ${(0,judge/* revisionOf */.DT)(result.taskDefinitionArn)}`, () => (0,move.moveScheduledTasks)(deps, targets, result.taskDefinitionArn));
    const failed = moves.filter((m) => m.result === 'failed');
    if (!failed.length)
        return { moves };
    return {
        moves,
        error: new errors/* ActionError */.lZ(`The services are deployed, but ${failed.length} scheduled task(s) still run the old revision: ` +
            `${failed.map((m) => `${m.label} (${m.reason})`).join('; ')}.`, {
            input: 'scheduled-tasks',
            fix: 'Allow scheduler:UpdateSchedule / events:PutTargets and iam:PassRole for the target role (see the README IAM policy), ' +
                'then re-run: the services are unchanged and only the scheduled tasks move.',
        }),
    };
}


/***/ })

};
