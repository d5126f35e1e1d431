export const id = 814;
export const ids = [814,768];
export const modules = {

/***/ 768:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {

const { awsEndpointFunctions, emitWarningIfUnsupportedVersion: emitWarningIfUnsupportedVersion$1, createDefaultUserAgentProvider, getDefaultSocketTimeout, NODE_APP_ID_CONFIG_OPTIONS, getAwsRegionExtensionConfiguration, resolveAwsRegionExtensionConfiguration, resolveUserAgentConfig, resolveHostHeaderConfig, getUserAgentPlugin, getHostHeaderPlugin, getLoggerPlugin, getRecursionDetectionPlugin } = __webpack_require__(5152);
const { getHttpAuthSchemeEndpointRuleSetPlugin, DefaultIdentityProviderConfig, getHttpSigningPlugin, createPaginator } = __webpack_require__(402);
const { normalizeProvider, getSmithyContext, ServiceException, NoOpLogger, emitWarningIfUnsupportedVersion, loadConfigsForDefaultMode, getDefaultExtensionConfiguration, resolveDefaultRuntimeConfig, Client, makeBuilder, createAggregatedClient } = __webpack_require__(2658);
const { Command: $Command } = __webpack_require__(2658);
exports.$Command = $Command;
exports.__Client = Client;
const { resolveDefaultsModeConfig, loadConfig, NODE_USE_FIPS_ENDPOINT_CONFIG_OPTIONS, NODE_USE_DUALSTACK_ENDPOINT_CONFIG_OPTIONS, NODE_REGION_CONFIG_OPTIONS, NODE_REGION_CONFIG_FILE_OPTIONS, resolveRegionConfig } = __webpack_require__(7291);
const { BinaryDecisionDiagram, EndpointCache, decideEndpoint, customEndpointFunctions, resolveEndpointConfig, getEndpointPlugin } = __webpack_require__(2085);
const { parseUrl, getHttpHandlerExtensionConfiguration, resolveHttpHandlerRuntimeConfig, getContentLengthPlugin } = __webpack_require__(3422);
const { DEFAULT_RETRY_MODE, NODE_RETRY_MODE_CONFIG_OPTIONS, NODE_MAX_ATTEMPT_CONFIG_OPTIONS, resolveRetryConfig, getRetryPlugin } = __webpack_require__(3609);
const { TypeRegistry, getSchemaSerdePlugin } = __webpack_require__(6890);
const { resolveAwsSdkSigV4Config, AwsSdkSigV4Signer, NODE_AUTH_SCHEME_PREFERENCE_OPTIONS } = __webpack_require__(7523);
const { defaultProvider } = __webpack_require__(5861);
const { toUtf8, fromUtf8, toBase64, fromBase64, calculateBodyLength } = __webpack_require__(2430);
const { streamCollector, NodeHttpHandler } = __webpack_require__(1279);
const { AwsRestJsonProtocol } = __webpack_require__(7288);
const { Sha256 } = __webpack_require__(9542);

const defaultSchedulerHttpAuthSchemeParametersProvider = async (config, context, input) => {
    return {
        operation: getSmithyContext(context).operation,
        region: await normalizeProvider(config.region)() || (() => {
            throw new Error("expected `region` to be configured for `aws.auth#sigv4`");
        })(),
    };
};
function createAwsAuthSigv4HttpAuthOption(authParameters) {
    return {
        schemeId: "aws.auth#sigv4",
        signingProperties: {
            name: "scheduler",
            region: authParameters.region,
        },
        propertiesExtractor: (config, context) => ({
            signingProperties: {
                config,
                context,
            },
        }),
    };
}
const defaultSchedulerHttpAuthSchemeProvider = (authParameters) => {
    const options = [];
    switch (authParameters.operation) {
        default: {
            options.push(createAwsAuthSigv4HttpAuthOption(authParameters));
        }
    }
    return options;
};
const resolveHttpAuthSchemeConfig = (config) => {
    const config_0 = resolveAwsSdkSigV4Config(config);
    return Object.assign(config_0, {
        authSchemePreference: normalizeProvider(config.authSchemePreference ?? []),
    });
};

const resolveClientEndpointParameters = (options) => {
    return Object.assign(options, {
        useDualstackEndpoint: options.useDualstackEndpoint ?? false,
        useFipsEndpoint: options.useFipsEndpoint ?? false,
        defaultSigningName: "scheduler",
    });
};
const commonParams = {
    UseFIPS: { type: "builtInParams", name: "useFipsEndpoint" },
    Endpoint: { type: "builtInParams", name: "endpoint" },
    Region: { type: "builtInParams", name: "region" },
    UseDualStack: { type: "builtInParams", name: "useDualstackEndpoint" },
};

var version = "3.1168.0";
var packageInfo = {
	version: version};

const k = "ref";
const a = -1, b = true, c = "isSet", d = "PartitionResult", e = "booleanEquals", f = "getAttr", g = { [k]: "Endpoint" }, h = { [k]: d }, i = {}, j = [{ [k]: "Region" }];
const _data = {
    conditions: [
        [c, [g]],
        [c, j],
        ["aws.partition", j, d],
        [e, [{ [k]: "UseFIPS" }, b]],
        [e, [{ [k]: "UseDualStack" }, b]],
        [e, [{ fn: f, argv: [h, "supportsDualStack"] }, b]],
        [e, [{ fn: f, argv: [h, "supportsFIPS"] }, b]]
    ],
    results: [
        [a],
        [a, "Invalid Configuration: FIPS and custom endpoint are not supported"],
        [a, "Invalid Configuration: Dualstack and custom endpoint are not supported"],
        [g, i],
        ["https://scheduler-fips.{Region}.{PartitionResult#dualStackDnsSuffix}", i],
        [a, "FIPS and DualStack are enabled, but this partition does not support one or both"],
        ["https://scheduler-fips.{Region}.{PartitionResult#dnsSuffix}", i],
        [a, "FIPS is enabled but this partition does not support FIPS"],
        ["https://scheduler.{Region}.{PartitionResult#dualStackDnsSuffix}", i],
        [a, "DualStack is enabled but this partition does not support DualStack"],
        ["https://scheduler.{Region}.{PartitionResult#dnsSuffix}", i],
        [a, "Invalid Configuration: Missing Region"]
    ]
};
const root = 2;
const r = 100_000_000;
const nodes = new Int32Array([
    -1, 1, -1,
    0, 12, 3,
    1, 4, r + 11,
    2, 5, r + 11,
    3, 8, 6,
    4, 7, r + 10,
    5, r + 8, r + 9,
    4, 10, 9,
    6, r + 6, r + 7,
    5, 11, r + 5,
    6, r + 4, r + 5,
    3, r + 1, 13,
    4, r + 2, r + 3,
]);
const bdd = BinaryDecisionDiagram.from(nodes, root, _data.conditions, _data.results);

const cache = new EndpointCache({
    size: 50,
    params: ["Endpoint", "Region", "UseDualStack", "UseFIPS"],
});
const defaultEndpointResolver = (endpointParams, context = {}) => {
    return cache.get(endpointParams, () => decideEndpoint(bdd, {
        endpointParams: endpointParams,
        logger: context.logger,
    }));
};
customEndpointFunctions.aws = awsEndpointFunctions;

class SchedulerServiceException extends ServiceException {
    static shapeId = "smithy.ts.sdk.synthetic.com.amazonaws.scheduler#SchedulerServiceException";
    constructor(options) {
        super(options);
        Object.setPrototypeOf(this, SchedulerServiceException.prototype);
    }
}

class InternalServerException extends SchedulerServiceException {
    static shapeId = "com.amazonaws.scheduler#InternalServerException";
    name = "InternalServerException";
    $fault = "server";
    Message;
    constructor(opts) {
        super({
            name: "InternalServerException",
            $fault: "server",
            ...opts,
        });
        Object.setPrototypeOf(this, InternalServerException.prototype);
        this.Message = opts.Message;
    }
}
class ResourceNotFoundException extends SchedulerServiceException {
    static shapeId = "com.amazonaws.scheduler#ResourceNotFoundException";
    name = "ResourceNotFoundException";
    $fault = "client";
    Message;
    constructor(opts) {
        super({
            name: "ResourceNotFoundException",
            $fault: "client",
            ...opts,
        });
        Object.setPrototypeOf(this, ResourceNotFoundException.prototype);
        this.Message = opts.Message;
    }
}
class ThrottlingException extends SchedulerServiceException {
    static shapeId = "com.amazonaws.scheduler#ThrottlingException";
    name = "ThrottlingException";
    $fault = "client";
    Message;
    constructor(opts) {
        super({
            name: "ThrottlingException",
            $fault: "client",
            ...opts,
        });
        Object.setPrototypeOf(this, ThrottlingException.prototype);
        this.Message = opts.Message;
    }
}
class ValidationException extends SchedulerServiceException {
    static shapeId = "com.amazonaws.scheduler#ValidationException";
    name = "ValidationException";
    $fault = "client";
    Message;
    constructor(opts) {
        super({
            name: "ValidationException",
            $fault: "client",
            ...opts,
        });
        Object.setPrototypeOf(this, ValidationException.prototype);
        this.Message = opts.Message;
    }
}
class ConflictException extends SchedulerServiceException {
    static shapeId = "com.amazonaws.scheduler#ConflictException";
    name = "ConflictException";
    $fault = "client";
    Message;
    constructor(opts) {
        super({
            name: "ConflictException",
            $fault: "client",
            ...opts,
        });
        Object.setPrototypeOf(this, ConflictException.prototype);
        this.Message = opts.Message;
    }
}
class ServiceQuotaExceededException extends SchedulerServiceException {
    static shapeId = "com.amazonaws.scheduler#ServiceQuotaExceededException";
    name = "ServiceQuotaExceededException";
    $fault = "client";
    Message;
    constructor(opts) {
        super({
            name: "ServiceQuotaExceededException",
            $fault: "client",
            ...opts,
        });
        Object.setPrototypeOf(this, ServiceQuotaExceededException.prototype);
        this.Message = opts.Message;
    }
}

const _A = "Arn";
const _AAC = "ActionAfterCompletion";
const _API = "AssignPublicIp";
const _AVC = "AwsVpcConfiguration";
const _CD = "CreationDate";
const _CE = "ConflictException";
const _CPS = "CapacityProviderStrategy";
const _CPSI = "CapacityProviderStrategyItem";
const _CS = "CreateSchedule";
const _CSG = "CreateScheduleGroup";
const _CSGI = "CreateScheduleGroupInput";
const _CSGO = "CreateScheduleGroupOutput";
const _CSI = "CreateScheduleInput";
const _CSO = "CreateScheduleOutput";
const _CT = "ClientToken";
const _D = "Description";
const _DLC = "DeadLetterConfig";
const _DS = "DeleteSchedule";
const _DSG = "DeleteScheduleGroup";
const _DSGI = "DeleteScheduleGroupInput";
const _DSGO = "DeleteScheduleGroupOutput";
const _DSI = "DeleteScheduleInput";
const _DSO = "DeleteScheduleOutput";
const _DT = "DetailType";
const _EBP = "EventBridgeParameters";
const _EBPEVP = "EventBridgePutEventsV2Parameters";
const _EBPREP = "EventBridgePutRawEventsParameters";
const _ED = "EndDate";
const _EEC = "EnableExecuteCommand";
const _EECSMT = "EnableECSManagedTags";
const _EP = "EcsParameters";
const _FTW = "FlexibleTimeWindow";
const _G = "Group";
const _GN = "GroupName";
const _GS = "GetSchedule";
const _GSG = "GetScheduleGroup";
const _GSGI = "GetScheduleGroupInput";
const _GSGO = "GetScheduleGroupOutput";
const _GSI = "GetScheduleInput";
const _GSO = "GetScheduleOutput";
const _I = "Input";
const _ISE = "InternalServerException";
const _K = "Key";
const _KKA = "KmsKeyArn";
const _KP = "KinesisParameters";
const _LMD = "LastModificationDate";
const _LS = "ListSchedules";
const _LSG = "ListScheduleGroups";
const _LSGI = "ListScheduleGroupsInput";
const _LSGO = "ListScheduleGroupsOutput";
const _LSI = "ListSchedulesInput";
const _LSO = "ListSchedulesOutput";
const _LT = "LaunchType";
const _LTFR = "ListTagsForResource";
const _LTFRI = "ListTagsForResourceInput";
const _LTFRO = "ListTagsForResourceOutput";
const _M = "Message";
const _MEAIS = "MaximumEventAgeInSeconds";
const _MGI = "MessageGroupId";
const _MR = "MaxResults";
const _MRA = "MaximumRetryAttempts";
const _MWIM = "MaximumWindowInMinutes";
const _Me = "Metadata";
const _Mo = "Mode";
const _N = "Name";
const _NC = "NetworkConfiguration";
const _NP = "NamePrefix";
const _NT = "NextToken";
const _PC = "PlacementConstraints";
const _PCl = "PlacementConstraint";
const _PK = "PartitionKey";
const _PPL = "PipelineParameterList";
const _PS = "PlacementStrategy";
const _PSl = "PlacementStrategies";
const _PT = "PropagateTags";
const _PV = "PlatformVersion";
const _RA = "ResourceArn";
const _RAo = "RoleArn";
const _RI = "ReferenceId";
const _RNFE = "ResourceNotFoundException";
const _RP = "RetryPolicy";
const _S = "Subnets";
const _SA = "ScheduleArn";
const _SD = "StartDate";
const _SE = "ScheduleExpression";
const _SET = "ScheduleExpressionTimezone";
const _SG = "SecurityGroups";
const _SGA = "ScheduleGroupArn";
const _SGL = "ScheduleGroupList";
const _SGS = "ScheduleGroupSummary";
const _SGc = "ScheduleGroups";
const _SGch = "ScheduleGroup";
const _SL = "ScheduleList";
const _SMPP = "SageMakerPipelineParameter";
const _SMPPL = "SageMakerPipelineParameterList";
const _SMPPa = "SageMakerPipelineParameters";
const _SP = "SqsParameters";
const _SQEE = "ServiceQuotaExceededException";
const _SS = "ScheduleSummary";
const _Sc = "Schedules";
const _So = "Source";
const _St = "State";
const _T = "Tags";
const _TC = "TaskCount";
const _TDA = "TaskDefinitionArn";
const _TE = "ThrottlingException";
const _TK = "TagKeys";
const _TL = "TagList";
const _TR = "TagResource";
const _TRI = "TagResourceInput";
const _TRO = "TagResourceOutput";
const _TS = "TargetSummary";
const _Ta = "Target";
const _Tag = "Tag";
const _UR = "UntagResource";
const _URI = "UntagResourceInput";
const _URO = "UntagResourceOutput";
const _US = "UpdateSchedule";
const _USI = "UpdateScheduleInput";
const _USO = "UpdateScheduleOutput";
const _V = "Value";
const _VE = "ValidationException";
const _aC = "awsvpcConfiguration";
const _b = "base";
const _c = "client";
const _cP = "capacityProvider";
const _cT = "clientToken";
const _e = "error";
const _ex = "expression";
const _f = "field";
const _gN = "groupName";
const _h = "http";
const _hE = "httpError";
const _hQ = "httpQuery";
const _iT = "idempotencyToken";
const _s = "smithy.ts.sdk.synthetic.com.amazonaws.scheduler";
const _se = "server";
const _t = "type";
const _w = "weight";
const n0 = "com.amazonaws.scheduler";
const _s_registry = new TypeRegistry(_s);
var SchedulerServiceException$ = [-3, _s, "SchedulerServiceException", 0, [], []];
_s_registry.registerError(SchedulerServiceException$, SchedulerServiceException);
const n0_registry = new TypeRegistry(n0);
var ConflictException$ = [-3, n0, _CE,
    { [_e]: _c, [_hE]: 409 },
    [_M],
    [0], 1
];
n0_registry.registerError(ConflictException$, ConflictException);
var InternalServerException$ = [-3, n0, _ISE,
    { [_e]: _se, [_hE]: 500 },
    [_M],
    [0], 1
];
n0_registry.registerError(InternalServerException$, InternalServerException);
var ResourceNotFoundException$ = [-3, n0, _RNFE,
    { [_e]: _c, [_hE]: 404 },
    [_M],
    [0], 1
];
n0_registry.registerError(ResourceNotFoundException$, ResourceNotFoundException);
var ServiceQuotaExceededException$ = [-3, n0, _SQEE,
    { [_e]: _c, [_hE]: 402 },
    [_M],
    [0], 1
];
n0_registry.registerError(ServiceQuotaExceededException$, ServiceQuotaExceededException);
var ThrottlingException$ = [-3, n0, _TE,
    { [_e]: _c, [_hE]: 429 },
    [_M],
    [0], 1
];
n0_registry.registerError(ThrottlingException$, ThrottlingException);
var ValidationException$ = [-3, n0, _VE,
    { [_e]: _c, [_hE]: 400 },
    [_M],
    [0], 1
];
n0_registry.registerError(ValidationException$, ValidationException);
const errorTypeRegistries = [
    _s_registry,
    n0_registry,
];
var AwsVpcConfiguration$ = [3, n0, _AVC,
    0,
    [_S, _SG, _API],
    [64 | 0, 64 | 0, 0], 1
];
var CapacityProviderStrategyItem$ = [3, n0, _CPSI,
    0,
    [_cP, _w, _b],
    [0, 1, 1], 1
];
var CreateScheduleGroupInput$ = [3, n0, _CSGI,
    0,
    [_N, _T, _CT],
    [[0, 1], () => TagList, [0, 4]], 1
];
var CreateScheduleGroupOutput$ = [3, n0, _CSGO,
    0,
    [_SGA],
    [0], 1
];
var CreateScheduleInput$ = [3, n0, _CSI,
    0,
    [_N, _SE, _Ta, _FTW, _GN, _SD, _ED, _D, _SET, _St, _KKA, _CT, _AAC],
    [[0, 1], 0, () => Target$, () => FlexibleTimeWindow$, 0, 4, 4, 0, 0, 0, 0, [0, 4], 0], 4
];
var CreateScheduleOutput$ = [3, n0, _CSO,
    0,
    [_SA],
    [0], 1
];
var DeadLetterConfig$ = [3, n0, _DLC,
    0,
    [_A],
    [0]
];
var DeleteScheduleGroupInput$ = [3, n0, _DSGI,
    0,
    [_N, _CT],
    [[0, 1], [0, { [_hQ]: _cT, [_iT]: 1 }]], 1
];
var DeleteScheduleGroupOutput$ = [3, n0, _DSGO,
    0,
    [],
    []
];
var DeleteScheduleInput$ = [3, n0, _DSI,
    0,
    [_N, _GN, _CT],
    [[0, 1], [0, { [_hQ]: _gN }], [0, { [_hQ]: _cT, [_iT]: 1 }]], 1
];
var DeleteScheduleOutput$ = [3, n0, _DSO,
    0,
    [],
    []
];
var EcsParameters$ = [3, n0, _EP,
    0,
    [_TDA, _TC, _LT, _NC, _PV, _G, _CPS, _EECSMT, _EEC, _PC, _PS, _PT, _RI, _T],
    [0, 1, 0, () => NetworkConfiguration$, 0, 0, () => CapacityProviderStrategy, 2, 2, () => PlacementConstraints, () => PlacementStrategies, 0, 0, [1, n0, _T, 0, 128 | 0]], 1
];
var EventBridgeParameters$ = [3, n0, _EBP,
    0,
    [_DT, _So],
    [0, 0], 2
];
var EventBridgePutEventsV2Parameters$ = [3, n0, _EBPEVP,
    0,
    [_DT, _So],
    [0, 0], 2
];
var EventBridgePutRawEventsParameters$ = [3, n0, _EBPREP,
    0,
    [_Me],
    [128 | 0]
];
var FlexibleTimeWindow$ = [3, n0, _FTW,
    0,
    [_Mo, _MWIM],
    [0, 1], 1
];
var GetScheduleGroupInput$ = [3, n0, _GSGI,
    0,
    [_N],
    [[0, 1]], 1
];
var GetScheduleGroupOutput$ = [3, n0, _GSGO,
    0,
    [_A, _N, _St, _CD, _LMD],
    [0, 0, 0, 4, 4]
];
var GetScheduleInput$ = [3, n0, _GSI,
    0,
    [_N, _GN],
    [[0, 1], [0, { [_hQ]: _gN }]], 1
];
var GetScheduleOutput$ = [3, n0, _GSO,
    0,
    [_A, _GN, _N, _SE, _SD, _ED, _D, _SET, _St, _CD, _LMD, _KKA, _Ta, _FTW, _AAC],
    [0, 0, 0, 0, 4, 4, 0, 0, 0, 4, 4, 0, () => Target$, () => FlexibleTimeWindow$, 0]
];
var KinesisParameters$ = [3, n0, _KP,
    0,
    [_PK],
    [0], 1
];
var ListScheduleGroupsInput$ = [3, n0, _LSGI,
    0,
    [_NP, _NT, _MR],
    [[0, { [_hQ]: _NP }], [0, { [_hQ]: _NT }], [1, { [_hQ]: _MR }]]
];
var ListScheduleGroupsOutput$ = [3, n0, _LSGO,
    0,
    [_SGc, _NT],
    [() => ScheduleGroupList, 0], 1
];
var ListSchedulesInput$ = [3, n0, _LSI,
    0,
    [_GN, _NP, _St, _NT, _MR],
    [[0, { [_hQ]: _SGch }], [0, { [_hQ]: _NP }], [0, { [_hQ]: _St }], [0, { [_hQ]: _NT }], [1, { [_hQ]: _MR }]]
];
var ListSchedulesOutput$ = [3, n0, _LSO,
    0,
    [_Sc, _NT],
    [() => ScheduleList, 0], 1
];
var ListTagsForResourceInput$ = [3, n0, _LTFRI,
    0,
    [_RA],
    [[0, 1]], 1
];
var ListTagsForResourceOutput$ = [3, n0, _LTFRO,
    0,
    [_T],
    [() => TagList]
];
var NetworkConfiguration$ = [3, n0, _NC,
    0,
    [_aC],
    [() => AwsVpcConfiguration$]
];
var PlacementConstraint$ = [3, n0, _PCl,
    0,
    [_t, _ex],
    [0, 0]
];
var PlacementStrategy$ = [3, n0, _PS,
    0,
    [_t, _f],
    [0, 0]
];
var RetryPolicy$ = [3, n0, _RP,
    0,
    [_MEAIS, _MRA],
    [1, 1]
];
var SageMakerPipelineParameter$ = [3, n0, _SMPP,
    0,
    [_N, _V],
    [0, 0], 2
];
var SageMakerPipelineParameters$ = [3, n0, _SMPPa,
    0,
    [_PPL],
    [() => SageMakerPipelineParameterList]
];
var ScheduleGroupSummary$ = [3, n0, _SGS,
    0,
    [_A, _N, _St, _CD, _LMD],
    [0, 0, 0, 4, 4]
];
var ScheduleSummary$ = [3, n0, _SS,
    0,
    [_A, _N, _GN, _St, _CD, _LMD, _Ta],
    [0, 0, 0, 0, 4, 4, () => TargetSummary$]
];
var SqsParameters$ = [3, n0, _SP,
    0,
    [_MGI],
    [0]
];
var Tag$ = [3, n0, _Tag,
    0,
    [_K, _V],
    [0, 0], 2
];
var TagResourceInput$ = [3, n0, _TRI,
    0,
    [_RA, _T],
    [[0, 1], () => TagList], 2
];
var TagResourceOutput$ = [3, n0, _TRO,
    0,
    [],
    []
];
var Target$ = [3, n0, _Ta,
    0,
    [_A, _RAo, _DLC, _RP, _I, _EP, _EBP, _EBPEVP, _EBPREP, _KP, _SMPPa, _SP],
    [0, 0, () => DeadLetterConfig$, () => RetryPolicy$, 0, () => EcsParameters$, () => EventBridgeParameters$, () => EventBridgePutEventsV2Parameters$, () => EventBridgePutRawEventsParameters$, () => KinesisParameters$, () => SageMakerPipelineParameters$, () => SqsParameters$], 2
];
var TargetSummary$ = [3, n0, _TS,
    0,
    [_A],
    [0], 1
];
var UntagResourceInput$ = [3, n0, _URI,
    0,
    [_RA, _TK],
    [[0, 1], [64 | 0, { [_hQ]: _TK }]], 2
];
var UntagResourceOutput$ = [3, n0, _URO,
    0,
    [],
    []
];
var UpdateScheduleInput$ = [3, n0, _USI,
    0,
    [_N, _SE, _Ta, _FTW, _GN, _SD, _ED, _D, _SET, _St, _KKA, _CT, _AAC],
    [[0, 1], 0, () => Target$, () => FlexibleTimeWindow$, 0, 4, 4, 0, 0, 0, 0, [0, 4], 0], 4
];
var UpdateScheduleOutput$ = [3, n0, _USO,
    0,
    [_SA],
    [0], 1
];
var CapacityProviderStrategy = [1, n0, _CPS,
    0, () => CapacityProviderStrategyItem$
];
var PlacementConstraints = [1, n0, _PC,
    0, () => PlacementConstraint$
];
var PlacementStrategies = [1, n0, _PSl,
    0, () => PlacementStrategy$
];
var SageMakerPipelineParameterList = [1, n0, _SMPPL,
    0, () => SageMakerPipelineParameter$
];
var ScheduleGroupList = [1, n0, _SGL,
    0, () => ScheduleGroupSummary$
];
var ScheduleList = [1, n0, _SL,
    0, () => ScheduleSummary$
];
var TagList = [1, n0, _TL,
    0, () => Tag$
];
var CreateSchedule$ = [9, n0, _CS,
    { [_h]: ["POST", "/schedules/{Name}", 200] }, () => CreateScheduleInput$, () => CreateScheduleOutput$
];
var CreateScheduleGroup$ = [9, n0, _CSG,
    { [_h]: ["POST", "/schedule-groups/{Name}", 200] }, () => CreateScheduleGroupInput$, () => CreateScheduleGroupOutput$
];
var DeleteSchedule$ = [9, n0, _DS,
    { [_h]: ["DELETE", "/schedules/{Name}", 200] }, () => DeleteScheduleInput$, () => DeleteScheduleOutput$
];
var DeleteScheduleGroup$ = [9, n0, _DSG,
    { [_h]: ["DELETE", "/schedule-groups/{Name}", 200] }, () => DeleteScheduleGroupInput$, () => DeleteScheduleGroupOutput$
];
var GetSchedule$ = [9, n0, _GS,
    { [_h]: ["GET", "/schedules/{Name}", 200] }, () => GetScheduleInput$, () => GetScheduleOutput$
];
var GetScheduleGroup$ = [9, n0, _GSG,
    { [_h]: ["GET", "/schedule-groups/{Name}", 200] }, () => GetScheduleGroupInput$, () => GetScheduleGroupOutput$
];
var ListScheduleGroups$ = [9, n0, _LSG,
    { [_h]: ["GET", "/schedule-groups", 200] }, () => ListScheduleGroupsInput$, () => ListScheduleGroupsOutput$
];
var ListSchedules$ = [9, n0, _LS,
    { [_h]: ["GET", "/schedules", 200] }, () => ListSchedulesInput$, () => ListSchedulesOutput$
];
var ListTagsForResource$ = [9, n0, _LTFR,
    { [_h]: ["GET", "/tags/{ResourceArn}", 200] }, () => ListTagsForResourceInput$, () => ListTagsForResourceOutput$
];
var TagResource$ = [9, n0, _TR,
    { [_h]: ["POST", "/tags/{ResourceArn}", 200] }, () => TagResourceInput$, () => TagResourceOutput$
];
var UntagResource$ = [9, n0, _UR,
    { [_h]: ["DELETE", "/tags/{ResourceArn}", 200] }, () => UntagResourceInput$, () => UntagResourceOutput$
];
var UpdateSchedule$ = [9, n0, _US,
    { [_h]: ["PUT", "/schedules/{Name}", 200] }, () => UpdateScheduleInput$, () => UpdateScheduleOutput$
];

const getRuntimeConfig$1 = (config) => {
    return {
        apiVersion: "2021-06-30",
        base64Decoder: config?.base64Decoder ?? fromBase64,
        base64Encoder: config?.base64Encoder ?? toBase64,
        disableHostPrefix: config?.disableHostPrefix ?? false,
        endpointProvider: config?.endpointProvider ?? defaultEndpointResolver,
        extensions: config?.extensions ?? [],
        httpAuthSchemeProvider: config?.httpAuthSchemeProvider ?? defaultSchedulerHttpAuthSchemeProvider,
        httpAuthSchemes: config?.httpAuthSchemes ?? [
            {
                schemeId: "aws.auth#sigv4",
                identityProvider: (ipc) => ipc.getIdentityProvider("aws.auth#sigv4"),
                signer: new AwsSdkSigV4Signer(),
            },
        ],
        logger: config?.logger ?? new NoOpLogger(),
        protocol: config?.protocol ?? AwsRestJsonProtocol,
        protocolSettings: config?.protocolSettings ?? {
            defaultNamespace: "com.amazonaws.scheduler",
            errorTypeRegistries,
            version: "2021-06-30",
            serviceTarget: "AWSChronosService",
        },
        serviceId: config?.serviceId ?? "Scheduler",
        sha256: config?.sha256 ?? Sha256,
        urlParser: config?.urlParser ?? parseUrl,
        utf8Decoder: config?.utf8Decoder ?? fromUtf8,
        utf8Encoder: config?.utf8Encoder ?? toUtf8,
    };
};

const getRuntimeConfig = (config) => {
    emitWarningIfUnsupportedVersion(process.version);
    const defaultsMode = resolveDefaultsModeConfig(config);
    const defaultConfigProvider = () => defaultsMode().then(loadConfigsForDefaultMode);
    const clientSharedValues = getRuntimeConfig$1(config);
    emitWarningIfUnsupportedVersion$1(process.version);
    const loaderConfig = {
        profile: config?.profile,
        logger: clientSharedValues.logger,
    };
    return {
        ...clientSharedValues,
        ...config,
        runtime: "node",
        defaultsMode,
        authSchemePreference: config?.authSchemePreference ?? loadConfig(NODE_AUTH_SCHEME_PREFERENCE_OPTIONS, loaderConfig),
        bodyLengthChecker: config?.bodyLengthChecker ?? calculateBodyLength,
        credentialDefaultProvider: config?.credentialDefaultProvider ?? defaultProvider,
        defaultSocketTimeout: getDefaultSocketTimeout(config?.requestHandler, 300_000),
        defaultUserAgentProvider: config?.defaultUserAgentProvider ?? createDefaultUserAgentProvider({ serviceId: clientSharedValues.serviceId, clientVersion: packageInfo.version }),
        maxAttempts: config?.maxAttempts ?? loadConfig(NODE_MAX_ATTEMPT_CONFIG_OPTIONS, config),
        region: config?.region ?? loadConfig(NODE_REGION_CONFIG_OPTIONS, { ...NODE_REGION_CONFIG_FILE_OPTIONS, ...loaderConfig }),
        requestHandler: NodeHttpHandler.create(config?.requestHandler ?? defaultConfigProvider),
        retryMode: config?.retryMode ??
            loadConfig({
                ...NODE_RETRY_MODE_CONFIG_OPTIONS,
                default: async () => (await defaultConfigProvider()).retryMode || DEFAULT_RETRY_MODE,
            }, config),
        streamCollector: config?.streamCollector ?? streamCollector,
        useDualstackEndpoint: config?.useDualstackEndpoint ?? loadConfig(NODE_USE_DUALSTACK_ENDPOINT_CONFIG_OPTIONS, loaderConfig),
        useFipsEndpoint: config?.useFipsEndpoint ?? loadConfig(NODE_USE_FIPS_ENDPOINT_CONFIG_OPTIONS, loaderConfig),
        userAgentAppId: config?.userAgentAppId ?? loadConfig(NODE_APP_ID_CONFIG_OPTIONS, loaderConfig),
    };
};

const getHttpAuthExtensionConfiguration = (runtimeConfig) => {
    const _httpAuthSchemes = runtimeConfig.httpAuthSchemes;
    let _httpAuthSchemeProvider = runtimeConfig.httpAuthSchemeProvider;
    let _credentials = runtimeConfig.credentials;
    return {
        setHttpAuthScheme(httpAuthScheme) {
            const index = _httpAuthSchemes.findIndex((scheme) => scheme.schemeId === httpAuthScheme.schemeId);
            if (index === -1) {
                _httpAuthSchemes.push(httpAuthScheme);
            }
            else {
                _httpAuthSchemes.splice(index, 1, httpAuthScheme);
            }
        },
        httpAuthSchemes() {
            return _httpAuthSchemes;
        },
        setHttpAuthSchemeProvider(httpAuthSchemeProvider) {
            _httpAuthSchemeProvider = httpAuthSchemeProvider;
        },
        httpAuthSchemeProvider() {
            return _httpAuthSchemeProvider;
        },
        setCredentials(credentials) {
            _credentials = credentials;
        },
        credentials() {
            return _credentials;
        },
    };
};
const resolveHttpAuthRuntimeConfig = (config) => {
    return {
        httpAuthSchemes: config.httpAuthSchemes(),
        httpAuthSchemeProvider: config.httpAuthSchemeProvider(),
        credentials: config.credentials(),
    };
};

const resolveRuntimeExtensions = (runtimeConfig, extensions) => {
    const extensionConfiguration = Object.assign(getAwsRegionExtensionConfiguration(runtimeConfig), getDefaultExtensionConfiguration(runtimeConfig), getHttpHandlerExtensionConfiguration(runtimeConfig), getHttpAuthExtensionConfiguration(runtimeConfig));
    extensions.forEach((extension) => extension.configure(extensionConfiguration));
    return Object.assign(runtimeConfig, resolveAwsRegionExtensionConfiguration(extensionConfiguration), resolveDefaultRuntimeConfig(extensionConfiguration), resolveHttpHandlerRuntimeConfig(extensionConfiguration), resolveHttpAuthRuntimeConfig(extensionConfiguration));
};

class SchedulerClient extends Client {
    config;
    constructor(...[configuration]) {
        const _config_0 = getRuntimeConfig(configuration || {});
        super(_config_0);
        this.initConfig = _config_0;
        const _config_1 = resolveClientEndpointParameters(_config_0);
        const _config_2 = resolveUserAgentConfig(_config_1);
        const _config_3 = resolveRetryConfig(_config_2);
        const _config_4 = resolveRegionConfig(_config_3);
        const _config_5 = resolveHostHeaderConfig(_config_4);
        const _config_6 = resolveEndpointConfig(_config_5);
        const _config_7 = resolveHttpAuthSchemeConfig(_config_6);
        const _config_8 = resolveRuntimeExtensions(_config_7, configuration?.extensions || []);
        this.config = _config_8;
        this.middlewareStack.use(getSchemaSerdePlugin(this.config));
        this.middlewareStack.use(getUserAgentPlugin(this.config));
        this.middlewareStack.use(getRetryPlugin(this.config));
        this.middlewareStack.use(getContentLengthPlugin(this.config));
        this.middlewareStack.use(getHostHeaderPlugin(this.config));
        this.middlewareStack.use(getLoggerPlugin(this.config));
        this.middlewareStack.use(getRecursionDetectionPlugin(this.config));
        this.middlewareStack.use(getHttpAuthSchemeEndpointRuleSetPlugin(this.config, {
            httpAuthSchemeParametersProvider: defaultSchedulerHttpAuthSchemeParametersProvider,
            identityProviderConfigProvider: async (config) => new DefaultIdentityProviderConfig({
                "aws.auth#sigv4": config.credentials,
            }),
        }));
        this.middlewareStack.use(getHttpSigningPlugin(this.config));
    }
    destroy() {
        super.destroy();
    }
}

const command = makeBuilder(commonParams, "AWSChronosService", "SchedulerClient", getEndpointPlugin);
const _ep0 = {};
const _mw0 = (Command, cs, config, o) => [];

class CreateScheduleCommand extends command(_ep0, _mw0, "CreateSchedule", CreateSchedule$) {
}

class CreateScheduleGroupCommand extends command(_ep0, _mw0, "CreateScheduleGroup", CreateScheduleGroup$) {
}

class DeleteScheduleCommand extends command(_ep0, _mw0, "DeleteSchedule", DeleteSchedule$) {
}

class DeleteScheduleGroupCommand extends command(_ep0, _mw0, "DeleteScheduleGroup", DeleteScheduleGroup$) {
}

class GetScheduleCommand extends command(_ep0, _mw0, "GetSchedule", GetSchedule$) {
}

class GetScheduleGroupCommand extends command(_ep0, _mw0, "GetScheduleGroup", GetScheduleGroup$) {
}

class ListScheduleGroupsCommand extends command(_ep0, _mw0, "ListScheduleGroups", ListScheduleGroups$) {
}

class ListSchedulesCommand extends command(_ep0, _mw0, "ListSchedules", ListSchedules$) {
}

class ListTagsForResourceCommand extends command(_ep0, _mw0, "ListTagsForResource", ListTagsForResource$) {
}

class TagResourceCommand extends command(_ep0, _mw0, "TagResource", TagResource$) {
}

class UntagResourceCommand extends command(_ep0, _mw0, "UntagResource", UntagResource$) {
}

class UpdateScheduleCommand extends command(_ep0, _mw0, "UpdateSchedule", UpdateSchedule$) {
}

const paginateListScheduleGroups = createPaginator(SchedulerClient, ListScheduleGroupsCommand, "NextToken", "NextToken", "MaxResults");

const paginateListSchedules = createPaginator(SchedulerClient, ListSchedulesCommand, "NextToken", "NextToken", "MaxResults");

const commands = {
    CreateScheduleCommand,
    CreateScheduleGroupCommand,
    DeleteScheduleCommand,
    DeleteScheduleGroupCommand,
    GetScheduleCommand,
    GetScheduleGroupCommand,
    ListScheduleGroupsCommand,
    ListSchedulesCommand,
    ListTagsForResourceCommand,
    TagResourceCommand,
    UntagResourceCommand,
    UpdateScheduleCommand,
};
const paginators = {
    paginateListScheduleGroups,
    paginateListSchedules,
};
class Scheduler extends SchedulerClient {
}
createAggregatedClient(commands, Scheduler, { paginators });

const ActionAfterCompletion = {
    DELETE: "DELETE",
    NONE: "NONE",
};
const AssignPublicIp = {
    DISABLED: "DISABLED",
    ENABLED: "ENABLED",
};
const FlexibleTimeWindowMode = {
    FLEXIBLE: "FLEXIBLE",
    OFF: "OFF",
};
const ScheduleState = {
    DISABLED: "DISABLED",
    ENABLED: "ENABLED",
};
const LaunchType = {
    EC2: "EC2",
    EXTERNAL: "EXTERNAL",
    FARGATE: "FARGATE",
};
const PlacementConstraintType = {
    DISTINCT_INSTANCE: "distinctInstance",
    MEMBER_OF: "memberOf",
};
const PlacementStrategyType = {
    BINPACK: "binpack",
    RANDOM: "random",
    SPREAD: "spread",
};
const PropagateTags = {
    TASK_DEFINITION: "TASK_DEFINITION",
};
const ScheduleGroupState = {
    ACTIVE: "ACTIVE",
    DELETING: "DELETING",
};

exports.ActionAfterCompletion = ActionAfterCompletion;
exports.AssignPublicIp = AssignPublicIp;
exports.AwsVpcConfiguration$ = AwsVpcConfiguration$;
exports.CapacityProviderStrategyItem$ = CapacityProviderStrategyItem$;
exports.ConflictException = ConflictException;
exports.ConflictException$ = ConflictException$;
exports.CreateSchedule$ = CreateSchedule$;
exports.CreateScheduleCommand = CreateScheduleCommand;
exports.CreateScheduleGroup$ = CreateScheduleGroup$;
exports.CreateScheduleGroupCommand = CreateScheduleGroupCommand;
exports.CreateScheduleGroupInput$ = CreateScheduleGroupInput$;
exports.CreateScheduleGroupOutput$ = CreateScheduleGroupOutput$;
exports.CreateScheduleInput$ = CreateScheduleInput$;
exports.CreateScheduleOutput$ = CreateScheduleOutput$;
exports.DeadLetterConfig$ = DeadLetterConfig$;
exports.DeleteSchedule$ = DeleteSchedule$;
exports.DeleteScheduleCommand = DeleteScheduleCommand;
exports.DeleteScheduleGroup$ = DeleteScheduleGroup$;
exports.DeleteScheduleGroupCommand = DeleteScheduleGroupCommand;
exports.DeleteScheduleGroupInput$ = DeleteScheduleGroupInput$;
exports.DeleteScheduleGroupOutput$ = DeleteScheduleGroupOutput$;
exports.DeleteScheduleInput$ = DeleteScheduleInput$;
exports.DeleteScheduleOutput$ = DeleteScheduleOutput$;
exports.EcsParameters$ = EcsParameters$;
exports.EventBridgeParameters$ = EventBridgeParameters$;
exports.EventBridgePutEventsV2Parameters$ = EventBridgePutEventsV2Parameters$;
exports.EventBridgePutRawEventsParameters$ = EventBridgePutRawEventsParameters$;
exports.FlexibleTimeWindow$ = FlexibleTimeWindow$;
exports.FlexibleTimeWindowMode = FlexibleTimeWindowMode;
exports.GetSchedule$ = GetSchedule$;
exports.GetScheduleCommand = GetScheduleCommand;
exports.GetScheduleGroup$ = GetScheduleGroup$;
exports.GetScheduleGroupCommand = GetScheduleGroupCommand;
exports.GetScheduleGroupInput$ = GetScheduleGroupInput$;
exports.GetScheduleGroupOutput$ = GetScheduleGroupOutput$;
exports.GetScheduleInput$ = GetScheduleInput$;
exports.GetScheduleOutput$ = GetScheduleOutput$;
exports.InternalServerException = InternalServerException;
exports.InternalServerException$ = InternalServerException$;
exports.KinesisParameters$ = KinesisParameters$;
exports.LaunchType = LaunchType;
exports.ListScheduleGroups$ = ListScheduleGroups$;
exports.ListScheduleGroupsCommand = ListScheduleGroupsCommand;
exports.ListScheduleGroupsInput$ = ListScheduleGroupsInput$;
exports.ListScheduleGroupsOutput$ = ListScheduleGroupsOutput$;
exports.ListSchedules$ = ListSchedules$;
exports.ListSchedulesCommand = ListSchedulesCommand;
exports.ListSchedulesInput$ = ListSchedulesInput$;
exports.ListSchedulesOutput$ = ListSchedulesOutput$;
exports.ListTagsForResource$ = ListTagsForResource$;
exports.ListTagsForResourceCommand = ListTagsForResourceCommand;
exports.ListTagsForResourceInput$ = ListTagsForResourceInput$;
exports.ListTagsForResourceOutput$ = ListTagsForResourceOutput$;
exports.NetworkConfiguration$ = NetworkConfiguration$;
exports.PlacementConstraint$ = PlacementConstraint$;
exports.PlacementConstraintType = PlacementConstraintType;
exports.PlacementStrategy$ = PlacementStrategy$;
exports.PlacementStrategyType = PlacementStrategyType;
exports.PropagateTags = PropagateTags;
exports.ResourceNotFoundException = ResourceNotFoundException;
exports.ResourceNotFoundException$ = ResourceNotFoundException$;
exports.RetryPolicy$ = RetryPolicy$;
exports.SageMakerPipelineParameter$ = SageMakerPipelineParameter$;
exports.SageMakerPipelineParameters$ = SageMakerPipelineParameters$;
exports.ScheduleGroupState = ScheduleGroupState;
exports.ScheduleGroupSummary$ = ScheduleGroupSummary$;
exports.ScheduleState = ScheduleState;
exports.ScheduleSummary$ = ScheduleSummary$;
exports.Scheduler = Scheduler;
exports.SchedulerClient = SchedulerClient;
exports.SchedulerServiceException = SchedulerServiceException;
exports.SchedulerServiceException$ = SchedulerServiceException$;
exports.ServiceQuotaExceededException = ServiceQuotaExceededException;
exports.ServiceQuotaExceededException$ = ServiceQuotaExceededException$;
exports.SqsParameters$ = SqsParameters$;
exports.Tag$ = Tag$;
exports.TagResource$ = TagResource$;
exports.TagResourceCommand = TagResourceCommand;
exports.TagResourceInput$ = TagResourceInput$;
exports.TagResourceOutput$ = TagResourceOutput$;
exports.Target$ = Target$;
exports.TargetSummary$ = TargetSummary$;
exports.ThrottlingException = ThrottlingException;
exports.ThrottlingException$ = ThrottlingException$;
exports.UntagResource$ = UntagResource$;
exports.UntagResourceCommand = UntagResourceCommand;
exports.UntagResourceInput$ = UntagResourceInput$;
exports.UntagResourceOutput$ = UntagResourceOutput$;
exports.UpdateSchedule$ = UpdateSchedule$;
exports.UpdateScheduleCommand = UpdateScheduleCommand;
exports.UpdateScheduleInput$ = UpdateScheduleInput$;
exports.UpdateScheduleOutput$ = UpdateScheduleOutput$;
exports.ValidationException = ValidationException;
exports.ValidationException$ = ValidationException$;
exports.errorTypeRegistries = errorTypeRegistries;
exports.paginateListScheduleGroups = paginateListScheduleGroups;
exports.paginateListSchedules = paginateListSchedules;


/***/ }),

/***/ 1814:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  findScheduled: () => (/* binding */ findScheduled),
  moveScheduled: () => (/* binding */ moveScheduled),
  scheduledMarkdown: () => (/* reexport */ scheduledMarkdown)
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

// EXTERNAL MODULE: ./lib/markdown.ts
var markdown = __webpack_require__(8473);
;// CONCATENATED MODULE: ./actions/deploy-ecs/scheduled/move.ts
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
    const got = await deps.scheduler.send(new client_scheduler_dist_cjs.GetScheduleCommand({ Name: t.name, GroupName: t.owner }));
    const now = got.Target?.EcsParameters?.TaskDefinitionArn;
    if (now === arn)
        return { ...base, result: 'unchanged', reason: 'already on this revision' };
    if (now !== t.taskDefinitionArn)
        return { ...base, result: 'skipped', reason: `changed to ${(0,judge/* revisionOf */.DT)(now)} by someone else during the deploy; left as it is` };
    // Everything GetSchedule returned except what is read-only (Arn, CreationDate, LastModificationDate).
    const { $metadata: _m, Arn: _a, CreationDate: _c, LastModificationDate: _l, ...schedule } = got;
    await deps.scheduler.send(new client_scheduler_dist_cjs.UpdateScheduleCommand({
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
        const page = await deps.events.send(new client_eventbridge_dist_cjs.ListTargetsByRuleCommand({ Rule: t.name, EventBusName: t.owner, NextToken }));
        target = page.Targets?.find((x) => x.Id === t.targetId);
        NextToken = target ? undefined : page.NextToken;
    } while (NextToken);
    if (!target?.EcsParameters)
        return { ...base, result: 'skipped', reason: `target ${t.targetId} was removed during the deploy` };
    const now = target.EcsParameters.TaskDefinitionArn;
    if (now === arn)
        return { ...base, result: 'unchanged', reason: 'already on this revision' };
    if (now !== t.taskDefinitionArn)
        return { ...base, result: 'skipped', reason: `changed to ${(0,judge/* revisionOf */.DT)(now)} by someone else during the deploy; left as it is` };
    const out = await deps.events.send(new client_eventbridge_dist_cjs.PutTargetsCommand({
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
            m = { label: t.label, before: t.taskDefinitionArn, after: arn, result: 'failed', reason: (0,errors/* describeUnknown */.Ee)(err) };
        }
        const line = `${m.label}: ${(0,judge/* revisionOf */.DT)(m.before)} → ${(0,judge/* revisionOf */.DT)(m.after)}: ${m.result}${m.reason ? ` (${m.reason})` : ''}`;
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
        (0,markdown/* code */.a)(m.label),
        (0,judge/* revisionOf */.DT)(m.before),
        (0,judge/* revisionOf */.DT)(m.after),
        `${ICON[m.result]}${m.reason ? `: ${m.reason}` : ''}`,
    ]);
    return `\n#### Scheduled tasks\n\n${(0,markdown/* markdownTable */.Q)(['schedule / rule', 'before', 'after', 'result'], rows)}\n`;
}

;// CONCATENATED MODULE: ./actions/deploy-ecs/scheduled/phase.ts
/**
 * The scheduled-tasks phases around deploy(): find the targets before any write (bad input fails
 * there), and once the deploy is over move them only if every service ended steady on the new
 * revision. A failed, timed-out, cancelled or rolled-back deploy never moves them, so they stay on
 * the revision the services run again.
 */







// load.ts imports this module alone, so move.ts lands in one chunk of the bundle, not two.

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
        const moves = leftInPlace(targets, after, 'planned', 'would move once every service is steady');
        for (const m of moves)
            deps.report.info(`${m.label}: would move ${(0,judge/* revisionOf */.DT)(m.before)} → ${(0,judge/* revisionOf */.DT)(m.after)} once every service is steady`);
        return { moves };
    }
    if (result.status !== 'succeeded' && result.status !== 'unchanged') {
        const ended = result.status === 'superseded' ? 'was replaced by another deployment' : result.status;
        const why = `the deploy ${ended}${result.rolledBack ? ' and was rolled back' : ''}; left on the revision it ran`;
        const moves = leftInPlace(targets, result.taskDefinitionArn, 'not moved', why);
        await deps.report.group('Scheduled tasks', async () => {
            for (const m of moves)
                deps.report.info(`${m.label}: stays on ${(0,judge/* revisionOf */.DT)(m.before)} (${why})`);
        });
        return { moves };
    }
    const moves = await deps.report.group(`Move ${targets.length} scheduled task(s) to ${(0,judge/* revisionOf */.DT)(result.taskDefinitionArn)}`, () => moveScheduledTasks(deps, targets, result.taskDefinitionArn));
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
