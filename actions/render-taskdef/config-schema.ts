import { z } from 'zod';
import { ssmVersionProblem } from './secret-ref.js';

/**
 * The feature-config format, in zod. `schemas/feature-config.schema.json` is
 * generated from this (`npx tsx actions/render-taskdef/gen-schema.ts`) and a
 * test fails when the committed file differs, so the editor schema and the
 * validation the action runs can never drift apart.
 */
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/);
const placeholderName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/);
const containerName = z.string().regex(/^[A-Za-z0-9_-]{1,255}$/);
const featureKey = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/);
const environmentName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/);
// Loose on purpose: values may hold ${DEPLOY_ENV}-style placeholders; the exact
// shape is checked after placeholders are resolved, with a precise message.
const secretRef = z
  .string()
  // Before the pattern, and final: `/x:3` gets its own message (config-load.ts), not a regex.
  .refine((v) => ssmVersionProblem(v) === undefined, { abort: true, message: 'an SSM parameter version or label' })
  .regex(/^(arn:aws[a-z-]*:(ssm|secretsmanager):\S+|[A-Za-z0-9_.\-/${}]+)$/)
  .meta({
    description:
      'SSM parameter name (/delivery/test/DATABASE_URL), SSM parameter ARN, or Secrets Manager ARN, optionally with ' +
      ':json-key:version-stage:version-id (e.g. ...:secret:delivery/test/stripe-Ab12Cd:api_key::).',
  });

const environmentVars = z.record(envName, z.string().nullable()).meta({
  description: 'Plain environment variables (NAME: value; an empty string is kept). null removes a variable set by defaults.',
});
const secrets = z.record(envName, secretRef.nullable()).meta({
  description: 'Secrets injected by ECS at start (NAME: reference; the value is never read). null removes a secret set by defaults.',
});

// The shape many teams already have: one map per secret store, NAME: parameter name / secret ARN.
const ssm = z.record(envName, secretRef.nullable()).meta({
  description:
    'Secrets from SSM Parameter Store (NAME: parameter name such as /delivery/test/DATABASE_URL, or its ARN). Same as secrets; null removes one.',
});
const secretsManager = z.record(envName, secretRef.nullable()).meta({
  description:
    'Secrets from Secrets Manager (NAME: secret ARN, optionally with :json-key:version-stage:version-id). Same as secrets; null removes one.',
});

const containerLayer = z
  .object({
    environment: environmentVars.optional(),
    secrets: secrets.optional(),
    ssm: ssm.optional(),
    secretsManager: secretsManager.optional(),
  })
  .strict()
  .meta({ description: 'Variables and secrets for one container only.' });

const layer = z
  .object({
    environment: environmentVars.optional(),
    secrets: secrets.optional(),
    ssm: ssm.optional(),
    secretsManager: secretsManager.optional(),
    flags: z
      .array(z.string().regex(/^!?[A-Za-z0-9][A-Za-z0-9_.:-]*$/))
      .optional()
      .meta({ description: 'Feature flags, joined with commas into FEATURE_FLAGS. In an environment, "!name" removes a default flag.' }),
    placeholders: z.record(placeholderName, z.string().nullable()).optional().meta({
      description:
        'Values for ${NAME} placeholders in the template (may use ${DEPLOY_ENV}, ${FEATURE_KEY}, ${AWS_REGION}, ${TEMPLATE_NAME}).',
    }),
    byContainer: z
      .record(containerName, containerLayer)
      .optional()
      .meta({ description: 'Per-container additions, keyed by container name. Naming a sidecar here is the only way render touches it.' }),
  })
  .strict();

export const featureConfigSchema = z
  .object({
    $schema: z.string().optional(),
    feature: featureKey.optional().meta({
      description:
        'The feature key, injected as FEATURE_KEY; equals the file name in a features directory. Same as featureKey: set at most one ' +
        'of the two. Optional: an app without features sets neither, and gets no FEATURE_KEY (nor FEATURE_FLAGS unless flags are set).',
    }),
    featureKey: featureKey
      .optional()
      .meta({ description: 'Same as feature (the name many existing configs use): set at most one of the two.' }),
    description: z.string().optional(),
    containers: z
      .array(containerName)
      .min(1)
      .optional()
      .meta({
        description:
          'Containers that receive the image, environment, secrets and flags; a listed container gets every environment-wide variable ' +
          'and secret. Without this list, a target container gets only the environment-wide names its template declares (least privilege) and ' +
          'targets are those named by the image input, else the essential containers. Names missing from a template are skipped.',
      }),
    defaults: layer.optional().meta({ description: 'Settings every environment starts from.' }),
    environments: z
      .record(environmentName, layer)
      .meta({ description: 'Per-environment settings (e.g. test, prod); each key overrides defaults.' }),
  })
  .strict()
  .meta({
    title: 'aws-deploy-actions feature config',
    description: 'Feature config for the render-taskdef action: per-environment variables, secrets, flags and template placeholders.',
  });

/**
 * A parsed config with `featureKey` folded into `feature`; `feature` is
 * undefined for an app without features (no key in the file, none in the inputs).
 */
export type FeatureConfig = Omit<z.infer<typeof featureConfigSchema>, 'feature' | 'featureKey'> & { feature?: string };
export type ConfigLayer = z.infer<typeof layer>;

const SCHEMA_ID = 'https://github.com/your-org/aws-deploy-actions/blob/v1/schemas/feature-config.schema.json';

export function featureConfigJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(featureConfigSchema, { target: 'draft-2020-12' }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return { $schema, $id: SCHEMA_ID, ...rest };
}
