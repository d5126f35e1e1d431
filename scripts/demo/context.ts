/**
 * The interface between the demo runner and its steps. Each step file in
 * scripts/demo/steps/<order>-<action>.ts default-exports a `DemoStep`; the
 * runner imports them in file-name order, skips a step whose
 * dist/<action>/index.js does not exist yet, and calls `run(ctx)`.
 */
import type { Emulator } from '../../test/emulator/index.js';
import type { BundleRun } from '../../test/helpers/run-bundle.js';
import type { DemoNames } from './seed.js';

export interface DemoStep {
  /** The action whose bundle the step runs (dist/<action>/index.js); the step is skipped until it exists. */
  action: string;
  /** One line, shown as the step's heading. */
  title: string;
  /** Failure scenarios this step can play: name → one-line description (shown by --list and on a bad --scenario). */
  scenarios?: Record<string, string>;
  run(ctx: DemoContext): Promise<void>;
}

export interface RunActionOptions {
  /** Action inputs by their action.yml names (become INPUT_<NAME>). */
  inputs: Record<string, string | number | boolean>;
  /** Heading printed above the run, e.g. 'core / test / backend'. */
  label?: string;
  /** Extra env for the bundle (emu.env() is always included). */
  env?: Record<string, string>;
  /** The run is meant to fail (a scenario): a non-zero exit is shown, not thrown. */
  expectFailure?: boolean;
  /** Print the bundle's log (default true). */
  showLog?: boolean;
  /** Print the step summary (default true). */
  showSummary?: boolean;
  timeoutMs?: number;
}

export interface DemoContext {
  /** The running emulator, seeded (see seed.ts and `names`). Steps may queue scenarios on it. */
  emu: Emulator;
  /** Everything the seed created, by the names of examples/delivery-app/README.md. */
  names: DemoNames;
  /** The selected failure scenario (`--scenario <name>`), or undefined for the happy path. */
  scenario: string | undefined;
  /** A scratch copy of examples/delivery-app; the bundles run with it as GITHUB_WORKSPACE and cwd. */
  workspace: string;
  /** Paths inside the workspace copy. */
  paths: { infra: string; templates: string; features: string; site: string };
  /** Values steps hand to later steps, e.g. `shared.rendered['core/test/backend']` = rendered task-definition path. */
  shared: { rendered: Record<string, string>; [key: string]: unknown };
  /**
   * Runs dist/<action>/index.js the way the GitHub runner does (test/helpers/run-bundle.ts) against the
   * emulator, prints its log (workflow commands made readable), outputs and step summary, and returns the run.
   * Throws when the bundle exits non-zero unless `expectFailure` is set.
   */
  runAction(action: string, opts: RunActionOptions): Promise<BundleRun>;
  /** Prints an indented line under the current step. */
  log(...lines: string[]): void;
  /**
   * Ends the pipeline after the current step, as a failed workflow step would: later steps are listed
   * as not run, with the reason. For scenarios whose failure stops a real pipeline. The demo still exits 0.
   */
  halt(reason: string): void;
}
