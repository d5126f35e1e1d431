import { coreReporter, runAction, writeSummary } from '../../lib/report.js';
import { getInputs } from './inputs.js';
import { ACTION, defaultClients, run } from './run.js';
import { workspace } from './workspace.js';

await runAction(ACTION, async () => {
  const inputs = getInputs();
  const result = await run(inputs, { reporter: coreReporter, ws: workspace(), env: process.env, clients: defaultClients(inputs.maxAttempts) });
  coreReporter.setOutput('task-definition', result.path);
  coreReporter.setOutput('family', result.family);
  coreReporter.setOutput('feature', result.feature);
  coreReporter.setOutput('environment', result.environment);
  coreReporter.setOutput('containers', result.containers.join(','));
  await writeSummary(result.summary);
});
