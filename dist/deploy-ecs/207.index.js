export const id = 207;
export const ids = [207];
export const modules = {

/***/ 5207:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   codedeployMarkdown: () => (/* binding */ codedeployMarkdown)
/* harmony export */ });
/* harmony import */ var _lib_markdown_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(8473);
/** The CodeDeploy part of the step summary: the deployment id and each lifecycle event's status. */

function codedeployMarkdown(r) {
    if (!r.codedeployDeploymentId)
        return '';
    const rows = r.lifecycle.filter((e) => e.name).map((e) => [e.name, e.status === 'Failed' ? `❌ ${e.status}` : e.status]);
    const table = rows.length ? `${(0,_lib_markdown_js__WEBPACK_IMPORTED_MODULE_0__/* .markdownTable */ .Q)(['lifecycle event', 'status'], rows)}\n` : '';
    return `\nCodeDeploy deployment ${(0,_lib_markdown_js__WEBPACK_IMPORTED_MODULE_0__/* .code */ .a)(r.codedeployDeploymentId)}${r.rolledBack ? ' (rolled back by CodeDeploy)' : ''}.\n\n${table}`;
}


/***/ })

};
