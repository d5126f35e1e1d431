import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { clientConfig, ClientFactory, resolveRegion } from '../../lib/aws.js';
import picomatch from 'picomatch';
import { ActionError, aggregate, formatProblem } from '../../lib/errors.js';
import type { Reporter } from '../../lib/report.js';
import { loadFeatureConfig, readJsonFile, type LoadedConfig } from './config-load.js';
import { knownEnvironments, resolveEnvironment } from './config.js';
import type { RenderInputs } from './inputs.js';
import type { JsonDoc } from './json-source.js';
import { renderTaskDefinition } from './render.js';
import type { RenderResult } from './render-types.js';
import { summaryMarkdown } from './summary.js';
import { masksFor, readTerraformOutputs, type TerraformOutputs, type TerraformSource } from './terraform.js';
import { locateProblems, validateTaskDefinition } from './validate.js';
import { checkForeign } from './foreign.js';
import { displayPath, type Workspace } from './workspace.js';

export const ACTION = 'render-taskdef';

export interface RunDeps {
  reporter: Reporter;
  ws: Workspace;
  env: NodeJS.ProcessEnv;
  /** Called only with verify: true, so render alone never constructs an AWS client. */
  clients: (region: string) => ClientFactory;
}

export interface RunResult {
  path: string;
  family: string;
  feature: string;
  environment: string;
  containers: string[];
  rendered: RenderResult;
  summary: string;
}

export function defaultClients(maxAttempts: number): (region: string) => ClientFactory {
  return (region) => new ClientFactory(() => clientConfig({ region, maxAttempts, action: ACTION }));
}

export async function run(inputs: RenderInputs, deps: RunDeps): Promise<RunResult> {
  const { reporter, ws } = deps;
  // Before anything else can print: terraform output -json holds sensitive values in clear.
  const tf = readTerraformOutputsSafely(inputs, ws);
  if ('outputs' in tf) for (const mask of masksFor(tf.outputs)) reporter.setSecret(mask);
  if ('outputs' in tf && tf.printedByRunner) {
    reporter.warning(
      "terraform-outputs holds the JSON itself: the runner printed it, sensitive outputs included, at the top of this step's log " +
        'before the action could mask anything. Write it to a file instead (terraform output -json > tf-outputs.json) and pass ' +
        'terraform-outputs-file: tf-outputs.json.',
    );
  }
  // A region is only needed for ${AWS_REGION} and verify; a bad one fails early either way.
  const region =
    inputs.awsRegion || deps.env.AWS_REGION || deps.env.AWS_DEFAULT_REGION ? resolveRegion(inputs.awsRegion, deps.env) : undefined;
  if (inputs.verify && !region) resolveRegion(undefined, deps.env);

  const { template, config, terraform } = await reporter.group('Read template and feature config', async () => {
    // Every file is read even when one is broken, so all problems show at once.
    const problems: ActionError[] = [];
    let template: JsonDoc | undefined;
    let config: LoadedConfig | undefined;
    let terraform: TerraformOutputs = new Map();
    if ('outputs' in tf) terraform = tf.outputs;
    else problems.push(tf.error);
    try {
      template = readJsonFile(inputs.template, ws, 'template');
    } catch (err) {
      problems.push(asActionError(err));
    }
    try {
      config = loadFeatureConfig(inputs.config, ws);
    } catch (err) {
      problems.push(...flatten(asActionError(err)));
    }
    if (problems.length || !template || !config) throw aggregate('Cannot read the inputs', problems);
    reporter.info(
      `template ${template.file}; ${config.config.feature === undefined ? 'no feature key' : `feature '${config.config.feature}'`} ` +
        `from ${config.doc.file}${terraform.size ? `; ${terraform.size} Terraform output(s)` : ''}`,
    );
    return { template, config, terraform };
  });

  const rendered = await reporter.group(`Render ${basename(template.file)} for ${inputs.environment}`, async () => {
    const settings = resolveEnvironment(config, inputs.environment);
    const r = renderTaskDefinition({
      template,
      templateName: basename(template.file).replace(/\.json$/i, ''),
      config,
      settings,
      environment: inputs.environment,
      image: inputs.image,
      vars: inputs.vars,
      region,
      terraform,
    });
    for (const w of r.warnings) reporter.info(w);
    // A warning, not an info line in a collapsed group: a new config entry that never reaches the app is a surprise.
    for (const w of r.withheld) {
      const them = w.names.length > 1 ? 'them' : 'it';
      reporter.warning(
        `container '${w.container}' does not get ${w.names.join(', ')} (set for the whole environment in ${config.doc.file}): ` +
          `${basename(template.file)} does not declare ${them} for this container. Name ${them} under byContainer.${w.container}, declare ` +
          `${them} in the template, or list "${w.container}" in the config's "containers", to add ${them}.`,
        w.at[0],
      );
    }
    const allowed = inputs.allowPlainNames.length ? picomatch(inputs.allowPlainNames) : () => false;
    const sensitiveValues = new Map([...terraform].flatMap(([name, o]) => o.secretStrings.map((s) => [s, name] as const)));
    const checked = validateTaskDefinition(r, { allowPlainName: (name) => allowed(name), sensitiveValues });
    const foreign = locateProblems(
      r,
      checkForeign(r, {
        environment: inputs.environment,
        environments: [...inputs.knownEnvironments, ...knownEnvironments(config.config)],
        allowForeign: inputs.allowForeign,
        configFile: config.doc.file,
      }),
    );
    checked.errors.push(...foreign.errors);
    // A value still holding a placeholder is reported once, as unresolved, not again as invalid.
    const unresolvedAt = new Set(r.problems.map((p) => `${p.location.file}:${p.location.line}`));
    const problems = [...r.problems, ...checked.errors.filter((p) => !unresolvedAt.has(`${p.location.file}:${p.location.line}`))];
    for (const w of checked.warnings) reporter.warning(formatProblem(w), w.location);
    if (problems.length) throw aggregate(`The rendered task definition for ${template.file} is invalid`, problems);
    for (const c of r.taskDef.containerDefinitions) {
      const touched = r.targets.includes(String(c.name)) ? '' : ' (untouched)';
      reporter.info(
        `${String(c.name)}${touched}: ${String(c.image)}; ${(c.environment ?? []).length} variable(s), ${(c.secrets ?? []).length} secret(s)`,
      );
    }
    return r;
  });

  let notChecked: string[] = [];
  if (inputs.verify) {
    await reporter.group('Verify against AWS (read-only)', async () => {
      // Loaded only with verify: the AWS SDK clients are most of the bundle's start-up time.
      const [{ planVerify }, { runVerify }] = await Promise.all([import('./verify-plan.js'), import('./verify.js')]);
      const outcome = await runVerify(planVerify(rendered, region!), deps.clients(region!), {
        info: (l) => reporter.info(l),
        warning: (l, at) => reporter.warning(l, at),
      });
      if (outcome.misses.length)
        throw aggregate(`verify found ${outcome.misses.length} missing resource(s) for ${template.file}`, outcome.misses);
      notChecked = outcome.notChecked.map((n) => n.message);
    });
  }

  const family = String(rendered.taskDef.family);
  const path = inputs.output ? ws.resolve(inputs.output) : join(deps.env.RUNNER_TEMP || tmpdir(), ACTION, `${family}.json`);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(rendered.taskDef, null, 2)}\n`);
  reporter.info(`wrote ${displayPath(path, ws)}`);

  const summary = summaryMarkdown(rendered, {
    feature: config.config.feature ?? '',
    environment: inputs.environment,
    template: template.file,
    output: displayPath(path, ws),
    verified: inputs.verify,
    notChecked,
  });
  return {
    path,
    family,
    feature: config.config.feature ?? '',
    environment: inputs.environment,
    containers: rendered.targets,
    rendered,
    summary,
  };
}

function readTerraformOutputsSafely(inputs: RenderInputs, ws: Workspace): TerraformSource | { error: ActionError } {
  try {
    return readTerraformOutputs(inputs.terraformOutputsFile, inputs.terraformOutputs, ws);
  } catch (err) {
    return { error: asActionError(err) };
  }
}

function asActionError(err: unknown): ActionError {
  if (err instanceof ActionError) return err;
  throw err;
}

function flatten(err: ActionError): ActionError[] {
  return err.problems.length ? err.problems : [err];
}
