export const id = 735;
export const ids = [735];
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


/***/ })

};
