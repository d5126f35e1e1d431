/**
 * What the runner does with an action's stdout, reduced to the commands the tests look at: a line is
 * a workflow command once leading whitespace is stripped; `::stop-commands::<token>` turns commands off
 * until a line `::<token>::`. Sources:
 * https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands#stopping-and-starting-workflow-commands
 * (the whitespace stripping: the runner's ActionCommand.TryParseV2 trims the line's start).
 */
export interface RunnerView {
  /** Messages of `::error …::` commands the runner acted on. */
  errors: string[];
  warnings: string[];
  /** Values of `::add-mask::` commands the runner acted on. */
  masks: string[];
}

export function runnerView(stdout: string): RunnerView {
  const view: RunnerView = { errors: [], warnings: [], masks: [] };
  let stoppedUntil: string | undefined;
  for (const raw of stdout.split('\n')) {
    const line = raw.replace(/\r$/, '').trimStart();
    if (stoppedUntil !== undefined) {
      if (line === `::${stoppedUntil}::`) stoppedUntil = undefined;
      continue;
    }
    const m = /^::([a-z-]+)( [^:]*)?::(.*)$/.exec(line);
    if (!m) continue;
    const [, name, , message] = m;
    if (name === 'stop-commands') stoppedUntil = message;
    else if (name === 'error') view.errors.push(message!);
    else if (name === 'warning') view.warnings.push(message!);
    else if (name === 'add-mask') view.masks.push(message!);
  }
  return view;
}
