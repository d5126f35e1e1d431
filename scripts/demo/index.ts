/**
 * `npm run demo [-- --scenario <name>] [-- --list]`: starts the local AWS
 * emulator (and s3rver), seeds it with the resources examples/delivery-app
 * names, and runs the example pipeline through the real dist bundles, one
 * step file per action (scripts/demo/steps/). No AWS account, no Docker.
 * Exits 0 when the pipeline (or the chosen failure scenario) played as meant.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startEmulator } from '../../test/emulator/index.js';
import { repoRoot, runBundle, type BundleRun } from '../../test/helpers/run-bundle.js';
import type { DemoContext, DemoStep, RunActionOptions } from './context.js';
import { bold, dim, green, printLog, printOutputs, printSummary, red, yellow } from './print.js';
import { seed } from './seed.js';

const stepsDir = resolve(import.meta.dirname, 'steps');

async function loadSteps(): Promise<{ file: string; step: DemoStep }[]> {
  const files = readdirSync(stepsDir)
    .filter((f) => /^\d+-.+\.ts$/.test(f))
    .sort();
  const steps = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(stepsDir, file)).href)) as { default?: DemoStep };
    if (!mod.default?.action || typeof mod.default.run !== 'function') {
      throw new Error(`scripts/demo/steps/${file} must default-export a DemoStep ({ action, title, run }); see scripts/demo/README.md.`);
    }
    steps.push({ file, step: mod.default });
  }
  return steps;
}

function parseArgs(argv: string[]): { scenario?: string; list: boolean } {
  const out: { scenario?: string; list: boolean } = { list: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--scenario') out.scenario = argv[++i] ?? '';
    else if (arg.startsWith('--scenario=')) out.scenario = arg.slice('--scenario='.length);
    else if (arg === '--list' || arg === '--help' || arg === '-h') out.list = true;
    else {
      console.error(`Unknown argument '${arg}'. Usage: npm run demo [-- --scenario <name>] [-- --list]`);
      process.exit(1);
    }
  }
  return out;
}

function printScenarios(steps: { step: DemoStep }[]): void {
  console.log('Scenarios (npm run demo -- --scenario <name>):');
  for (const { step } of steps) {
    for (const [name, description] of Object.entries(step.scenarios ?? {}))
      console.log(`  ${name.padEnd(24)} ${description} ${dim(`[${step.action}]`)}`);
  }
}

const bundleExists = (action: string) => existsSync(join(repoRoot, 'dist', action, 'index.js'));

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const steps = await loadSteps();
  if (args.list) {
    printScenarios(steps);
    return 0;
  }
  const owner = args.scenario === undefined ? undefined : steps.find(({ step }) => args.scenario! in (step.scenarios ?? {}));
  if (args.scenario !== undefined && !owner) {
    console.error(red(`Unknown scenario '${args.scenario}'.`));
    printScenarios(steps);
    return 1;
  }

  const started = Date.now();
  console.log(bold('aws-deploy-actions demo: the delivery-app pipeline against a local AWS emulator'));
  console.log(
    dim(args.scenario ? `scenario: ${args.scenario} — ${owner!.step.scenarios![args.scenario]}` : 'scenario: none (the happy path)'),
  );

  const emu = await startEmulator();
  const workspace = mkdtempSync(join(tmpdir(), 'demo-delivery-app-'));
  cpSync(join(repoRoot, 'examples', 'delivery-app'), workspace, { recursive: true });
  let failed = false;
  let halted: string | undefined;
  try {
    const names = await seed(emu, workspace);
    console.log(
      dim(
        `emulator ${emu.endpoint}, s3 ${emu.s3Endpoint}; seeded clusters ${Object.values(names.cluster).join(', ')}, services ${names.templates.join(', ')}`,
      ),
    );
    emu.resetCounts();

    const ctx: DemoContext = {
      emu,
      names,
      scenario: args.scenario,
      workspace,
      paths: {
        infra: join(workspace, 'infra'),
        templates: join(workspace, 'infra', 'taskdef'),
        features: join(workspace, 'infra', 'env', 'features'),
        site: join(workspace, 'site'),
      },
      shared: { rendered: {} },
      log: (...lines) => console.log(lines.map((l) => `  ${l}`).join('\n')),
      halt: (reason) => {
        halted = reason;
      },
      // NODE_NO_WARNINGS: the SDK's Node-20 support notice would repeat under every run.
      runAction: (action, opts) => runAction(action, opts, { ...emu.env(), NODE_NO_WARNINGS: '1' }, workspace),
    };

    for (const [i, { step }] of steps.entries()) {
      console.log(`\n${bold(`━━ ${i + 1}/${steps.length} ${step.title}`)} ${dim(`(${step.action})`)}`);
      if (halted !== undefined) {
        console.log(yellow(`  not run: ${halted}`));
        continue;
      }
      if (!bundleExists(step.action)) {
        console.log(yellow(`  skipped: dist/${step.action}/index.js is not built yet (npm run build)`));
        continue;
      }
      try {
        await step.run(ctx);
      } catch (err) {
        console.log(red(`  ✖ ${step.title} failed unexpectedly: ${err instanceof Error ? err.message : String(err)}`));
        failed = true;
        break;
      }
    }

    const counts = Object.entries(emu.counts()).sort(([a], [b]) => a.localeCompare(b));
    console.log(`\n${bold('AWS API calls made by the bundles')} ${dim(`(${counts.reduce((n, [, c]) => n + c, 0)} in total)`)}`);
    for (const [op, n] of counts) console.log(`  ${String(n).padStart(5)}  ${op}`);
  } finally {
    await emu.stop();
    rmSync(workspace, { recursive: true, force: true });
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (failed) {
    console.log(red(`\ndemo failed after ${seconds} s`));
    return 1;
  }
  console.log(green(`\ndemo finished in ${seconds} s${args.scenario ? ` (scenario ${args.scenario} played)` : ''}`));
  return 0;
}

async function runAction(action: string, opts: RunActionOptions, env: Record<string, string>, workspace: string): Promise<BundleRun> {
  if (opts.label) console.log(`\n  ${bold(opts.label)}`);
  const run = await runBundle(action, {
    inputs: opts.inputs,
    env: { ...env, ...opts.env },
    workspace,
    timeoutMs: opts.timeoutMs ?? 120_000,
  });
  if (opts.showLog !== false) printLog(run.stdout);
  if (run.stderr.trim())
    console.log(
      dim(
        run.stderr
          .trim()
          .split('\n')
          .map((l) => `  ! ${l}`)
          .join('\n'),
      ),
    );
  printOutputs(run);
  if (opts.showSummary !== false) printSummary(run);
  if (run.code === 0) {
    console.log(green(`  ✔ ${action} exited 0`));
  } else if (opts.expectFailure) {
    console.log(yellow(`  ✖ ${action} exited ${run.code} — the failure this scenario shows`));
  } else {
    throw new Error(`${action} exited ${run.code}${run.errors.length ? `: ${run.errors.join(' | ')}` : ''}`);
  }
  return run;
}

process.exitCode = await main();
