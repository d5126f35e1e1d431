/**
 * The release workflow's scripts, run as written in .github/workflows/release.yml
 * (git and gh stubbed): the CHANGELOG gate, the major tag move and the release
 * notes taken from CHANGELOG.md.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/run-bundle.js';
import { loadWorkflow } from './workflow-files.js';

const release = loadWorkflow(join(repoRoot, '.github', 'workflows', 'release.yml'));

function script(job: string, name: string): string {
  const step = release.doc.jobs[job]?.steps?.find((s) => s.name === name);
  if (!step?.run) throw new Error(`release.yml jobs.${job} has no run step '${name}'`);
  return step.run;
}

/** A work dir with CHANGELOG.md and stub git/gh that record their arguments (gh also keeps the notes file). */
function sandbox(changelog = readFileSync(join(repoRoot, 'CHANGELOG.md'), 'utf8')) {
  const dir = mkdtempSync(join(tmpdir(), 'release-'));
  const bin = mkdtempSync(join(tmpdir(), 'release-bin-'));
  writeFileSync(join(dir, 'CHANGELOG.md'), changelog);
  const log = join(dir, 'calls.log');
  writeFileSync(log, '');
  // `git ls-remote` answers with the tags in LS_REMOTE (one "<sha>\trefs/tags/<tag>" line each).
  writeFileSync(
    join(bin, 'git'),
    `#!/bin/sh\necho "git $*" >> "${log}"\nif [ "$1" = ls-remote ] && [ -n "$LS_REMOTE" ]; then printf '%s\\n' $LS_REMOTE | sed 's#^#0000000000000000000000000000000000000000\\trefs/tags/#'; fi\n`,
  );
  writeFileSync(
    join(bin, 'gh'),
    `#!/bin/sh\necho "gh $*" >> "${log}"\nwhile [ $# -gt 0 ]; do if [ "$1" = --notes-file ]; then cp "$2" "${join(dir, 'notes.md')}"; fi; shift; done\n`,
  );
  chmodSync(join(bin, 'git'), 0o755);
  chmodSync(join(bin, 'gh'), 0o755);
  const summary = join(dir, 'summary.md');
  writeFileSync(summary, '');
  const run = (job: string, step: string, env: Record<string, string>) =>
    spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script(job, step)], {
      cwd: dir,
      env: { PATH: `${bin}:${process.env.PATH}`, RUNNER_TEMP: dir, GITHUB_STEP_SUMMARY: summary, ...env },
      encoding: 'utf8',
    });
  return { dir, run, calls: () => readFileSync(log, 'utf8'), summary: () => readFileSync(summary, 'utf8') };
}

describe('release.yml', () => {
  it('runs on vX.Y.Z tags only, and only the publish job may write', () => {
    const on = release.doc.on as { push: { tags: string[] } };
    expect(on.push.tags).toEqual(['v[0-9]+.[0-9]+.[0-9]+']);
    expect(release.doc.jobs.verify!.permissions).toEqual({ contents: 'read' });
    expect(release.doc.jobs.publish!.permissions).toEqual({ contents: 'write' });
    expect(release.doc.jobs.publish!.needs).toBe('verify');
  });

  it('verifies dist/ with the same script as CI', () => {
    const steps = release.doc.jobs.verify!.steps!.map((s) => s.run ?? '');
    expect(steps).toContain('bash .github/scripts/check-dist.sh');
    expect(steps.indexOf('npm run build')).toBeLessThan(steps.indexOf('bash .github/scripts/check-dist.sh'));
  });

  it('refuses a tag whose version has no CHANGELOG section', () => {
    const box = sandbox();
    expect(box.run('verify', 'CHANGELOG.md has this version', { TAG: 'v1.0.0' }).status).toBe(0);
    const missing = box.run('verify', 'CHANGELOG.md has this version', { TAG: 'v1.0.1' });
    expect(missing.status).toBe(1);
    expect(missing.stdout).toContain("::error file=CHANGELOG.md::No '## [1.0.1]' section in CHANGELOG.md");
  });

  it('does not take 1.0.10 for 1.0.1 or a regex dot for any character', () => {
    const box = sandbox('# Changelog\n\n## [1.0.10] - 2026-01-01\n\n## [1x0y1] - x\n');
    expect(box.run('verify', 'CHANGELOG.md has this version', { TAG: 'v1.0.1' }).status).toBe(1);
  });

  it('moves the major tag to the released commit', () => {
    const box = sandbox();
    const res = box.run('publish', 'Move the major tag', { TAG: 'v1.4.2', SHA: 'a'.repeat(40) });
    expect(res.status).toBe(0);
    expect(box.calls()).toBe(
      `git ls-remote --tags --refs origin refs/tags/v1.*\ngit tag --force v1 ${'a'.repeat(40)}\ngit push --force origin refs/tags/v1\n`,
    );
    expect(box.summary()).toContain(`Moved v1 to ${'a'.repeat(40)} (v1.4.2)`);
  });

  it('moves the major tag only to the highest version of its major: a backport leaves it alone', () => {
    const tags = 'v1.2.4 v1.3.0 v1.10.0 v1.2.5 v2.0.0';
    const backport = sandbox();
    const res = backport.run('publish', 'Move the major tag', { TAG: 'v1.2.5', SHA: 'b'.repeat(40), LS_REMOTE: tags });
    expect(res.status, res.stderr).toBe(0);
    expect(backport.calls()).not.toContain('git tag');
    expect(backport.calls()).not.toContain('git push');
    expect(res.stdout).toContain('::notice::v1.2.5 is not the highest release of v1 (v1.10.0 is)');
    // 1.10.0 sorts above 1.9.0 as a version, not as text.
    const newest = sandbox();
    expect(newest.run('publish', 'Move the major tag', { TAG: 'v1.10.0', SHA: 'c'.repeat(40), LS_REMOTE: 'v1.9.0 v1.10.0' }).status).toBe(
      0,
    );
    expect(newest.calls()).toContain(`git tag --force v1 ${'c'.repeat(40)}`);
  });

  it('publishes the release with that version’s CHANGELOG section as notes', () => {
    const changelog =
      '# Changelog\n\n## [Unreleased]\n\n- next\n\n## [1.1.0] - 2026-12-01\n\n### Fixed\n\n- a thing\n\n## [1.0.0] - 2026-11-22\n\n- first\n';
    const box = sandbox(changelog);
    const res = box.run('publish', 'Create the GitHub release', { TAG: 'v1.1.0', GH_TOKEN: 'x' });
    expect(res.status, res.stderr).toBe(0);
    expect(box.calls()).toContain('gh release create v1.1.0 --title v1.1.0 --notes-file');
    const notes = readFileSync(join(box.dir, 'notes.md'), 'utf8');
    expect(notes).toContain('- a thing');
    expect(notes).not.toContain('next');
    expect(notes).not.toContain('first');
  });
});
