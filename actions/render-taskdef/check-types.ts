/**
 * What a check of the rendered task definition takes and returns: its own module so the checkers
 * (validate.ts, check-values.ts) share the types without importing each other.
 */
import type { JsonPath } from './json-source.js';
import type { RenderResult } from './render-types.js';

/**
 * A problem found on the rendered task definition, at a JSON path of it
 * (`containerDefinitions[0].portMappings[1].containerPort` is
 * `['containerDefinitions', 0, 'portMappings', 1, 'containerPort']`).
 * Checkers only say what and where; `locateProblems` turns the path into the
 * file and line it came from. Any checker with this output plugs in (the
 * API-shape validator of lib/taskdef.ts included).
 */
export interface PathProblem {
  path: JsonPath;
  message: string;
  fix: string;
  /** Default error. A warning is annotated but does not fail the render. */
  severity?: 'error' | 'warning';
}

export interface CheckOptions {
  /** Plain variable names allowed to look like secrets by name (allow-plain-names). */
  allowPlainName: (name: string) => boolean;
  /** Every string of a sensitive Terraform output, to the output's name: never allowed in the clear. */
  sensitiveValues: ReadonlyMap<string, string>;
}

export type Checker = (r: RenderResult, opts: CheckOptions) => PathProblem[];
