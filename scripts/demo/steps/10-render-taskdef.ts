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
    for (const feature of names.features) {
      for (const environment of names.environments) {
        for (const template of names.templates) {
          const key = `${feature}/${environment}/${template}`;
          const output = join('rendered', feature, environment, `${template}.json`);
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
            showLog: feature === names.features[0] && environment === 'test',
            showSummary: feature === names.features[0] && environment === 'test',
          });
          ctx.shared.rendered[key] = join(ctx.workspace, output);
          const def = JSON.parse(readFileSync(ctx.shared.rendered[key], 'utf8')) as Record<string, unknown>;
          ctx.log(dim(`task definition (${output}):`));
          ctx.log(...compactJson(def).split('\n').map((l) => dim(`  ${l}`)));
        }
      }
    }

    if (ctx.scenario === 'image-not-pushed') {
      const [template] = names.templates;
      ctx.log('', 'Scenario image-not-pushed: the workflow built an image but the push step was skipped, so the tag is not in ECR.');
      await ctx.runAction('render-taskdef', {
        label: `render core/prod/${template} with an image tag that is not in ECR`,
        inputs: {
          template: `infra/taskdef/${template}.json`,
          'features-dir': 'infra/env/features',
          feature: names.features[0]!,
          environment: 'prod',
          image: names.image(template!, 'not-pushed-9f8e7d6'),
          output: join('rendered', 'scenario', `${template}.json`),
          verify: 'true',
          'max-attempts': '2',
        },
        expectFailure: true,
      });
      ctx.log('Nothing was registered or deployed: verify makes Describe* calls only.');
    }
  },
};

export default step;
