import { appendSummary, runAction, runnerReporter } from '../../lib/runner.js';
import { getInputs } from './inputs.js';
import { ACTION, defaultClients, run } from './run.js';
import { workspace } from './workspace.js';

await runAction(ACTION, async () => {
  const inputs = getInputs();
  const result = await run(inputs, {
    reporter: runnerReporter,
    ws: workspace(),
    env: process.env,
    clients: defaultClients(inputs.maxAttempts),
  });
  runnerReporter.setOutput('task-definition', result.path);
  runnerReporter.setOutput('family', result.family);
  runnerReporter.setOutput('feature', result.feature);
  runnerReporter.setOutput('environment', result.environment);
  runnerReporter.setOutput('containers', result.containers.join(','));
  appendSummary(result.summary);
});
