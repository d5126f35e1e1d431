/**
 * Demo step: render every feature × environment × template of the example,
 * with verify: true against the seeded emulator, and print each task
 * definition. Later steps find the files in ctx.shared.rendered
 * ('<feature>/<environment>/<template>' → absolute path).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DemoStep } from '../context.js';
import { compactJson, dim } from '../print.js';

const step: DemoStep = {
  action: 'render-taskdef',
  title: 'Render the task definitions (every feature × environment × template, verified against AWS)',
  scenarios: {
    'image-not-pushed': 'render with verify: true for an image tag that was never pushed to ECR: fails before any deploy',
  },
  async run(ctx) {
    const { names } = ctx;
    if (ctx.scenario === 'image-not-pushed') {
      const template = names.templates.includes('backend') ? 'backend' : names.templates[0]!;
      ctx.log('Scenario image-not-pushed: the workflow built an image but its push step was skipped, so the tag is not in ECR.');
      await ctx.runAction('render-taskdef', {
        label: `render core/test/${template} with verify: true for an image tag that is not in ECR`,
        inputs: {
          template: `infra/taskdef/${template}.json`,
          'features-dir': 'infra/env/features',
          feature: names.features.includes('core') ? 'core' : names.features[0]!,
          environment: 'test',
          image: names.image(template, 'not-pushed-9f8e7d6'),
          output: join('rendered', 'scenario', `${template}.json`),
          verify: 'true',
          'max-attempts': '2',
        },
        expectFailure: true,
      });
      ctx.log('', 'verify makes Describe* calls only: nothing was registered and no service was touched.');
      ctx.halt('render-taskdef failed, so the workflow stops before migrating or deploying');
      return;
    }

    for (const feature of names.features) {
      for (const environment of names.environments) {
        for (const template of names.templates) {
          const key = `${feature}/${environment}/${template}`;
          const output = join('rendered', feature, environment, `${template}.json`);
          const first = feature === names.features[0] && environment === 'test';
          await ctx.runAction('render-taskdef', {
            label: `render ${key}`,
            inputs: {
              template: `infra/taskdef/${template}.json`,
              'features-dir': 'infra/env/features',
              feature,
              environment,
              image: names.image(template),
              output,
              verify: 'true',
            },
            // Logs and summaries are alike for all eight; show them in full once per template.
            showLog: first,
            showSummary: first,
          });
          ctx.shared.rendered[key] = join(ctx.workspace, output);
          const def = JSON.parse(readFileSync(ctx.shared.rendered[key], 'utf8')) as Record<string, unknown>;
          ctx.log(dim(`task definition (${output}):`));
          ctx.log(
            ...compactJson(def)
              .split('\n')
              .map((l) => dim(`  ${l}`)),
          );
        }
      }
    }
  },
};

export default step;
