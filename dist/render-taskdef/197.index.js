export const id = 197;
export const ids = [197];
export const modules = {

/***/ 9197:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   planVerify: () => (/* binding */ planVerify)
/* harmony export */ });
/* harmony import */ var _lib_ecr_image_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(1884);
/* harmony import */ var _render_types_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(9104);
/* harmony import */ var _secret_ref_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(5176);
/**
 * What `verify: true` will look up, worked out from the rendered task
 * definition without calling AWS: which parameters, secrets, images and log
 * groups, grouped so each is asked once, and which references cannot be
 * checked from here. Kept apart from the calls (verify.ts) so the planning is
 * pure and can be tested without clients.
 */



function planVerify(r, region) {
    const plan = { ssm: new Map(), secrets: new Map(), images: new Map(), logGroups: new Map(), byArn: [], skipped: [] };
    const push = (map, k, item) => void map.set(k, [...(map.get(k) ?? []), item]);
    r.taskDef.containerDefinitions.forEach((c, i) => {
        const name = String(c.name);
        for (const s of c.secrets ?? []) {
            const ref = (0,_secret_ref_js__WEBPACK_IMPORTED_MODULE_0__/* .parseSecretRef */ .TN)(s.valueFrom ?? '');
            if ('error' in ref)
                continue;
            const at = r.origins.get((0,_render_types_js__WEBPACK_IMPORTED_MODULE_1__/* .originKey */ .y)(name, 'secrets', s.name)) ?? r.locate(['containerDefinitions', i, 'secrets']);
            const what = `container '${name}' secret ${s.name}`;
            if (ref.region && ref.region !== region)
                plan.skipped.push(`${what}: ${ref.ref} is in ${ref.region}, not ${region}`);
            else if (ref.account)
                plan.byArn.push({
                    kind: ref.kind,
                    account: ref.account,
                    key: ref.kind === 'ssm' ? ref.name : ref.secretId,
                    ref: ref.ref,
                    item: { what, at },
                });
            else if (ref.kind === 'ssm')
                push(plan.ssm, ref.name, { what, at });
            else
                push(plan.secrets, ref.secretId, { what, at });
        }
        if (typeof c.image === 'string') {
            const ref = (0,_lib_ecr_image_js__WEBPACK_IMPORTED_MODULE_2__/* .parseImageRef */ .Q)(c.image);
            const reg = (0,_lib_ecr_image_js__WEBPACK_IMPORTED_MODULE_2__/* .ecrRegistry */ .gO)(ref);
            const at = r.locate(['containerDefinitions', i, 'image']);
            if (!reg || !ref.repository || (ref.digest !== undefined && !/^sha256:[a-f0-9]{64}$/.test(ref.digest))) {
                plan.skipped.push(`container '${name}' image ${c.image} is not in a private ECR registry`);
            }
            else if (reg.region !== region)
                plan.skipped.push(`container '${name}' image ${c.image} is in ${reg.region}, not ${region}`);
            else {
                const entry = plan.images.get(c.image) ?? {
                    registryId: reg.registryId,
                    repositoryName: ref.repository,
                    imageId: (0,_lib_ecr_image_js__WEBPACK_IMPORTED_MODULE_2__/* .imageId */ .L)(ref),
                    items: [],
                };
                entry.items.push({ what: `container '${name}' image`, at: { input: 'image', ...at } });
                plan.images.set(c.image, entry);
            }
        }
        const log = c.logConfiguration;
        const group = log?.logDriver === 'awslogs' ? log.options?.['awslogs-group'] : undefined;
        // With awslogs-create-group ECS creates the group itself at start.
        if (group && log?.options?.['awslogs-create-group'] !== 'true') {
            push(plan.logGroups, group, {
                what: `container '${name}' log group`,
                at: r.locate(['containerDefinitions', i, 'logConfiguration', 'options', 'awslogs-group']),
            });
        }
    });
    return plan;
}


/***/ })

};
