/**
 * The shapes that cross the render boundary: what the caller asks render for
 * and what it gets back. They live apart from the rendering itself because
 * inputs, validation, verification and the summary all read them, and none of
 * those should have to depend on how a task definition is rendered.
 */
import type { ActionError, Location } from '../../lib/errors.js';
import type { LoadedConfig } from './config-load.js';
import type { ResolvedSettings } from './config.js';
import type { JsonDoc, JsonPath } from './json-source.js';
import type { TerraformOutputs } from './terraform.js';
import type { TaskDef } from './taskdef-types.js';

/** The `image` input: nothing, one URI for the main container, or `container=uri` lines. */
export type ImageSpec = { kind: 'none' } | { kind: 'single'; uri: string } | { kind: 'per-container'; images: Map<string, string> };

export interface RenderRequest {
  template: JsonDoc;
  /** Template file name without `.json`, available as ${TEMPLATE_NAME}. */
  templateName: string;
  config: LoadedConfig;
  settings: ResolvedSettings;
  environment: string;
  image: ImageSpec;
  vars: Map<string, string>;
  region?: string;
  /** `terraform output -json`, as `${tf:NAME}`. */
  terraform?: TerraformOutputs;
}

export interface RenderResult {
  taskDef: TaskDef;
  /** Containers that received the image, the common settings and the injected variables. */
  targets: string[];
  /** Where each env/secret entry came from: key `container\0environment|secrets\0NAME`. */
  origins: Map<string, Location>;
  /** Where a path of the task definition is in the template: used for every field render does not inject. */
  locate: (path: JsonPath) => Location;
  problems: ActionError[];
  warnings: string[];
  /** Per container, the names its template declared before render (environment and secrets). */
  declared: Map<string, Set<string>>;
  /** Config entries for the whole environment a container did not get: its template does not declare them. */
  withheld: Withheld[];
  /** Where a sensitive Terraform output ended up (paths of taskDef; an env/secret entry by its index after the merge). */
  sensitive: SensitiveUse[];
}

export interface Withheld {
  container: string;
  names: string[];
  /** Where each name is set in the config, in the order of names. */
  at: Location[];
}

export interface SensitiveUse {
  path: JsonPath;
  /** The Terraform output's name (never its value). */
  output: string;
}

export const originKey = (container: string, kind: 'environment' | 'secrets', name: string) => `${container}\0${kind}\0${name}`;
