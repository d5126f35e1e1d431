import { where } from '../../lib/errors.js';
import { code, markdownTable } from '../../lib/markdown.js';
import { originKey, type RenderResult } from './render-types.js';
import { describeSecretSource, parseSecretRef } from './secret-ref.js';

const MAX_ROWS = 300;

export interface SummaryInfo {
  feature: string;
  environment: string;
  template: string;
  output: string;
  verified: boolean;
  /** With verify: references in another account that were not checked (one line each). */
  notChecked?: string[];
}

/**
 * The step summary: what was rendered, per container. Environment variables
 * are listed by name with where they were set, never with values (a plain
 * value can still be sensitive); secrets by name and source, never a value.
 */
export function summaryMarkdown(r: RenderResult, info: SummaryInfo): string {
  const def = r.taskDef;
  const head = [
    `### render-taskdef: ${code(String(def.family))}`,
    '',
    markdownTable(
      ['feature', 'environment', 'cpu / memory', 'template', 'task definition', 'verified against AWS'],
      [
        [
          info.feature ? code(info.feature) : '-',
          code(info.environment),
          `${def.cpu ?? '-'} / ${def.memory ?? '-'}`,
          code(info.template),
          code(info.output),
          info.verified
            ? info.notChecked?.length
              ? `yes, except ${info.notChecked.length} in another account`
              : 'yes'
            : 'no (verify: false)',
        ],
      ],
    ),
    ...(info.notChecked?.length ? ['', '**Not checked** (in another account):', '', ...info.notChecked.map((n) => `- ${n}`)] : []),
    '',
    markdownTable(
      ['container', 'image', 'rendered', 'environment', 'secrets'],
      def.containerDefinitions.map((c) => [
        code(String(c.name)),
        code(String(c.image)),
        r.targets.includes(String(c.name)) ? 'yes' : 'untouched',
        (c.environment ?? []).length,
        (c.secrets ?? []).length,
      ]),
    ),
  ];
  const rows: string[][] = [];
  for (const c of def.containerDefinitions) {
    const name = String(c.name);
    for (const e of c.environment ?? [])
      rows.push([code(name), code(e.name), 'environment', where(r.origins.get(originKey(name, 'environment', e.name)) ?? {})]);
    for (const s of c.secrets ?? []) {
      const ref = parseSecretRef(s.valueFrom ?? '');
      rows.push([
        code(name),
        code(s.name),
        'error' in ref ? 'secret' : `secret: ${describeSecretSource(ref)}`,
        where(r.origins.get(originKey(name, 'secrets', s.name)) ?? {}),
      ]);
    }
  }
  // GitHub caps a step summary at 1 MiB; thousands of variables would cross it and fail the step.
  const shown = rows.slice(0, MAX_ROWS);
  const more = rows.length > MAX_ROWS ? [`… and ${rows.length - MAX_ROWS} more (see the task definition file).`, ''] : [];
  const withheld = r.withheld.flatMap((w) => w.names.map((n, i) => [code(w.container), code(n), where(w.at[i] ?? {})]));
  const withheldTable = withheld.length
    ? [
        '',
        '**Not given** (set for the whole environment, but the template does not declare them for the container: name them under ' +
          '`byContainer.<container>` to add them):',
        '',
        markdownTable(['container', 'name', 'set in'], withheld),
      ]
    : [];
  return [
    ...head,
    ...withheldTable,
    '',
    '<details><summary>Variables and secrets (names only)</summary>',
    '',
    markdownTable(['container', 'name', 'kind / source', 'set in'], shown),
    '',
    ...more,
    '</details>',
    '',
  ].join('\n');
}
