/**
 * The order test files start in. With 4 workers the suite's wall time is set by its longest files:
 * started late, one of them runs on alone at the end. Vitest's own order (BaseSequencer, on a clone
 * without its results cache) takes whole projects in name order (bundles, processes, unit) and, in a
 * project, larger files first; the oracles (generated schedules, minutes each) are small files in
 * `processes` and `unit`, so they started last and set the tail. Here, from what each file is rather
 * than a timing list that goes stale: the oracles first, then the files that run bundles, then those
 * that start processes, then unit tests, larger files first in each; `sequence.groupOrder` still
 * comes first (the IAM project runs after every other).
 */
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Lower starts earlier. */
function rank(spec: TestSpecification): number {
  if (/^oracle.*\.test\.ts$/.test(basename(spec.moduleId))) return 0;
  return ({ bundles: 1, processes: 2 } as Record<string, number>)[spec.project.name] ?? 3;
}

export class LongFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const size = new Map(files.map((f) => [f, statSync(f.moduleId).size]));
    return [...files].sort(
      (a, b) =>
        a.project.config.sequence.groupOrder - b.project.config.sequence.groupOrder ||
        rank(a) - rank(b) ||
        size.get(b)! - size.get(a)! ||
        a.moduleId.localeCompare(b.moduleId),
    );
  }
}
