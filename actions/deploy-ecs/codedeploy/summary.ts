/** The CodeDeploy part of the step summary: the deployment id and each lifecycle event's status. */
import { code, markdownTable } from '../../../lib/markdown.js';
import type { CodeDeployResult } from './run.js';

export function codedeployMarkdown(r: CodeDeployResult): string {
  if (!r.codedeployDeploymentId) return '';
  const rows = r.lifecycle.filter((e) => e.name).map((e) => [e.name, e.status === 'Failed' ? `❌ ${e.status}` : e.status]);
  const table = rows.length ? `${markdownTable(['lifecycle event', 'status'], rows)}\n` : '';
  return `\nCodeDeploy deployment ${code(r.codedeployDeploymentId)}${r.rolledBack ? ' (rolled back by CodeDeploy)' : ''}.\n\n${table}`;
}
