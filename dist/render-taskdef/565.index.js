export const id = 565;
export const ids = [565];
export const modules = {

/***/ 3565:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   planVerify: () => (/* binding */ planVerify),
/* harmony export */   runVerify: () => (/* binding */ runVerify)
/* harmony export */ });
/* unused harmony export SSM_BATCH */
/* harmony import */ var _aws_sdk_client_cloudwatch_logs__WEBPACK_IMPORTED_MODULE_7__ = __webpack_require__(303);
/* harmony import */ var _aws_sdk_client_ecr__WEBPACK_IMPORTED_MODULE_6__ = __webpack_require__(8249);
/* harmony import */ var _aws_sdk_client_secrets_manager__WEBPACK_IMPORTED_MODULE_5__ = __webpack_require__(2994);
/* harmony import */ var _aws_sdk_client_ssm__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(4736);
/* harmony import */ var _lib_ecr_image_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(1884);
/* harmony import */ var _lib_errors_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(8115);
/* harmony import */ var _render_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(7325);
/* harmony import */ var _secret_ref_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(5176);








/** DescribeParameters takes at most 50 values per ParameterStringFilter. */
const SSM_BATCH = 50;
function planVerify(r, region) {
    const plan = { ssm: new Map(), secrets: new Map(), images: new Map(), logGroups: new Map(), skipped: [] };
    const push = (map, k, item) => void map.set(k, [...(map.get(k) ?? []), item]);
    r.taskDef.containerDefinitions.forEach((c, i) => {
        const name = String(c.name);
        for (const s of c.secrets ?? []) {
            const ref = (0,_secret_ref_js__WEBPACK_IMPORTED_MODULE_2__/* .parseSecretRef */ .TN)(s.valueFrom ?? '');
            if ('error' in ref)
                continue;
            const at = r.origins.get((0,_render_js__WEBPACK_IMPORTED_MODULE_1__/* .originKey */ .y)(name, 'secrets', s.name)) ?? r.locate(['containerDefinitions', i, 'secrets']);
            const what = `container '${name}' secret ${s.name}`;
            if (ref.region && ref.region !== region)
                plan.skipped.push(`${what}: ${ref.ref} is in ${ref.region}, not ${region}`);
            else if (ref.kind === 'ssm')
                push(plan.ssm, ref.name, { what, at });
            else
                push(plan.secrets, ref.secretId, { what, at });
        }
        if (typeof c.image === 'string') {
            const ref = (0,_lib_ecr_image_js__WEBPACK_IMPORTED_MODULE_3__/* .parseImageRef */ .Q)(c.image);
            const reg = (0,_lib_ecr_image_js__WEBPACK_IMPORTED_MODULE_3__/* .ecrRegistry */ .gO)(ref);
            const at = r.locate(['containerDefinitions', i, 'image']);
            if (!reg || !ref.repository || (ref.digest !== undefined && !/^sha256:[a-f0-9]{64}$/.test(ref.digest))) {
                plan.skipped.push(`container '${name}' image ${c.image} is not in a private ECR registry`);
            }
            else if (reg.region !== region)
                plan.skipped.push(`container '${name}' image ${c.image} is in ${reg.region}, not ${region}`);
            else {
                const entry = plan.images.get(c.image) ?? { registryId: reg.registryId, repositoryName: ref.repository, imageId: (0,_lib_ecr_image_js__WEBPACK_IMPORTED_MODULE_3__/* .imageId */ .L)(ref), items: [] };
                entry.items.push({ what: `container '${name}' image`, at: { input: 'image', ...at } });
                plan.images.set(c.image, entry);
            }
        }
        const log = c.logConfiguration;
        const group = log?.logDriver === 'awslogs' ? log.options?.['awslogs-group'] : undefined;
        // With awslogs-create-group ECS creates the group itself at start.
        if (group && log?.options?.['awslogs-create-group'] !== 'true') {
            push(plan.logGroups, group, { what: `container '${name}' log group`, at: r.locate(['containerDefinitions', i, 'logConfiguration', 'options', 'awslogs-group']) });
        }
    });
    return plan;
}
const notFound = (err, ...codes) => codes.includes(err?.name ?? '');
async function runVerify(plan, clients, log) {
    const misses = [];
    const miss = (items, message, fix) => {
        for (const item of items)
            misses.push(new _lib_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ActionError */ .lZ(`${item.what}: ${message}`, { ...item.at, fix }));
    };
    const failed = (items, what, err, permission) => miss(items, `could not check ${what}: ${(0,_lib_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .describeUnknown */ .Ee)(err)}.`, `Allow ${permission} for the role this job runs as (see the IAM policy in actions/render-taskdef/README.md), or set verify: false.`);
    const checks = [];
    if (plan.ssm.size) {
        const ssm = clients.get(_aws_sdk_client_ssm__WEBPACK_IMPORTED_MODULE_4__/* .SSMClient */ .jBj);
        const names = [...plan.ssm.keys()];
        for (let i = 0; i < names.length; i += SSM_BATCH) {
            const batch = names.slice(i, i + SSM_BATCH);
            checks.push((async () => {
                const found = new Set();
                try {
                    let NextToken;
                    do {
                        const page = await ssm.send(new _aws_sdk_client_ssm__WEBPACK_IMPORTED_MODULE_4__/* .DescribeParametersCommand */ .$hz({ ParameterFilters: [{ Key: 'Name', Option: 'Equals', Values: batch }], MaxResults: 50, NextToken }));
                        for (const p of page.Parameters ?? [])
                            if (p.Name)
                                found.add(p.Name);
                        NextToken = page.NextToken;
                    } while (NextToken);
                }
                catch (err) {
                    for (const n of batch)
                        failed(plan.ssm.get(n), `SSM parameter ${n}`, err, 'ssm:DescribeParameters');
                    return;
                }
                for (const n of batch) {
                    if (!found.has(n))
                        miss(plan.ssm.get(n), `SSM parameter ${n} does not exist.`, `Create it (aws ssm put-parameter --name ${n} --type SecureString ...) or fix the name.`);
                }
            })());
        }
    }
    if (plan.secrets.size) {
        const sm = clients.get(_aws_sdk_client_secrets_manager__WEBPACK_IMPORTED_MODULE_5__/* .SecretsManagerClient */ ._H);
        for (const [id, items] of plan.secrets) {
            checks.push(sm.send(new _aws_sdk_client_secrets_manager__WEBPACK_IMPORTED_MODULE_5__/* .DescribeSecretCommand */ .X5({ SecretId: id })).then((out) => {
                if (out.DeletedDate)
                    miss(items, `Secrets Manager secret ${id} is scheduled for deletion.`, 'Restore it (aws secretsmanager restore-secret) or point at another secret.');
            }, (err) => (notFound(err, 'ResourceNotFoundException') ? miss(items, `Secrets Manager secret ${id} does not exist.`, 'Create it or fix the ARN (copy it from the Secrets Manager console, with its 6-character suffix).') : failed(items, `secret ${id}`, err, 'secretsmanager:DescribeSecret'))));
        }
    }
    if (plan.images.size) {
        const ecr = clients.get(_aws_sdk_client_ecr__WEBPACK_IMPORTED_MODULE_6__/* .ECRClient */ .S70);
        for (const [uri, img] of plan.images) {
            checks.push(ecr.send(new _aws_sdk_client_ecr__WEBPACK_IMPORTED_MODULE_6__/* .DescribeImagesCommand */ .ji5({ registryId: img.registryId, repositoryName: img.repositoryName, imageIds: [img.imageId] })).then(() => undefined, (err) => notFound(err, 'ImageNotFoundException', 'RepositoryNotFoundException')
                ? miss(img.items, `image ${uri} is not in ECR (${err.name}).`, 'Push the image first (the build job), or fix the tag.')
                : failed(img.items, `image ${uri}`, err, 'ecr:DescribeImages')));
        }
    }
    if (plan.logGroups.size) {
        const logs = clients.get(_aws_sdk_client_cloudwatch_logs__WEBPACK_IMPORTED_MODULE_7__/* .CloudWatchLogsClient */ .TFr);
        for (const [group, items] of plan.logGroups) {
            checks.push((async () => {
                try {
                    let nextToken;
                    do {
                        const page = await logs.send(new _aws_sdk_client_cloudwatch_logs__WEBPACK_IMPORTED_MODULE_7__/* .DescribeLogGroupsCommand */ .VlF({ logGroupNamePrefix: group, nextToken }));
                        if (page.logGroups?.some((g) => g.logGroupName === group))
                            return;
                        nextToken = page.nextToken;
                    } while (nextToken);
                    miss(items, `log group ${group} does not exist.`, `Create it (aws logs create-log-group --log-group-name ${group}) or set "awslogs-create-group": "true" (needs logs:CreateLogGroup on the execution role).`);
                }
                catch (err) {
                    failed(items, `log group ${group}`, err, 'logs:DescribeLogGroups');
                }
            })());
        }
    }
    await Promise.all(checks);
    log(`verified ${plan.ssm.size} SSM parameter(s), ${plan.secrets.size} secret(s), ${plan.images.size} image(s), ${plan.logGroups.size} log group(s): ${misses.length ? `${misses.length} problem(s)` : 'all exist'}`);
    for (const s of plan.skipped)
        log(`not verified: ${s}`);
    return misses;
}


/***/ })

};
