/**
 * The bucket policy the README gives to keep the bookkeeping folder private,
 * evaluated for the CloudFront principal as S3 does: an explicit Deny in any
 * matching statement wins, else an Allow, else the request is implicitly
 * denied (IAM, "Policy evaluation logic":
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html;
 * `*` in Resource and Action matches any run of characters, "IAM JSON policy
 * elements: Resource": https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).
 * Conditions: StringEquals only, which is all the policy uses.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_STATE_DIR as BOOKKEEPING_DIR, lockKey, recordKey, releasesFolder, stateOf } from '../../actions/deploy-static/state.js';

const state = stateOf({ bucket: 'shop-frontend', prefix: '' });
const MANIFEST_REL = recordKey(state);
const LOCK_REL = lockKey(state);
const RELEASES_DIR = releasesFolder(state);
import { repoRoot } from '../helpers/run-bundle.js';

interface Statement {
  Effect: 'Allow' | 'Deny';
  Principal: { Service?: string; AWS?: string } | '*';
  Action: string | string[];
  Resource: string | string[];
  Condition?: { StringEquals?: Record<string, string> };
}
interface Request {
  service: string;
  sourceArn: string;
  action: string;
  resource: string;
}

const wildcard = (pattern: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
const list = (v: string | string[]) => (Array.isArray(v) ? v : [v]);

function applies(st: Statement, req: Request): boolean {
  const principal = st.Principal === '*' || st.Principal.Service === req.service;
  const action = list(st.Action).some((a) => wildcard(a).test(req.action));
  const resource = list(st.Resource).some((r) => wildcard(r).test(req.resource));
  const condition = Object.entries(st.Condition?.StringEquals ?? {}).every(([k, v]) =>
    k === 'AWS:SourceArn' ? req.sourceArn === v : false,
  );
  return principal && action && resource && condition;
}

function evaluate(statements: readonly Statement[], req: Request): 'allowed' | 'explicit deny' | 'implicit deny' {
  const matching = statements.filter((st) => applies(st, req));
  if (matching.some((st) => st.Effect === 'Deny')) return 'explicit deny';
  return matching.some((st) => st.Effect === 'Allow') ? 'allowed' : 'implicit deny';
}

/** The JSON block of the README's "Keep the bookkeeping private" section. */
function readmePolicy(): { Statement: Statement[] } {
  const readme = readFileSync(join(repoRoot, 'actions/deploy-static/README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Keep the bookkeeping private'));
  const block = /```json\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('no JSON block in the README section');
  return JSON.parse(block[1]!) as { Statement: Statement[] };
}

const DIST = 'arn:aws:cloudfront::111122223333:distribution/E2QWRUHAPOMQZL';
const get = (key: string, sourceArn = DIST): Request => ({
  service: 'cloudfront.amazonaws.com',
  sourceArn,
  action: 's3:GetObject',
  resource: `arn:aws:s3:::shop-frontend/${key}`,
});

describe("the README's bucket policy for the bookkeeping folder", () => {
  const policy = readmePolicy();

  it('is a policy whose Deny targets the bookkeeping folder of the example prefix for the CloudFront principal', () => {
    const deny = policy.Statement.filter((st) => st.Effect === 'Deny');
    expect(deny).toHaveLength(1);
    expect(deny[0]).toMatchObject({
      Principal: { Service: 'cloudfront.amazonaws.com' },
      Action: 's3:GetObject',
      Resource: `arn:aws:s3:::shop-frontend/app/${BOOKKEEPING_DIR}*`,
    });
    expect(deny[0]!.Condition).toBeUndefined();
  });

  it.each([
    ['app/index.html', 'allowed'],
    ['app/assets/index-C-HkVLXe.js', 'allowed'],
    [`app/${MANIFEST_REL}`, 'explicit deny'],
    [`app/${LOCK_REL}`, 'explicit deny'],
    [`app/${RELEASES_DIR}aaaaaaa-20250101T000000Z/config/leak.json`, 'explicit deny'],
    [`app/${RELEASES_DIR}aaaaaaa-20250101T000000Z/index.html`, 'explicit deny'],
  ])('CloudFront GetObject %s → %s', (key, decision) => {
    expect(evaluate(policy.Statement, get(key))).toBe(decision);
  });

  it('without the Deny the same policy serves the record and the snapshots', () => {
    const allowOnly = policy.Statement.filter((st) => st.Effect === 'Allow');
    expect(evaluate(allowOnly, get(`app/${MANIFEST_REL}`))).toBe('allowed');
    expect(evaluate(allowOnly, get(`app/${RELEASES_DIR}x/config/leak.json`))).toBe('allowed');
  });

  it('another distribution gets nothing (the Allow is for one distribution)', () => {
    expect(evaluate(policy.Statement, get('app/index.html', 'arn:aws:cloudfront::111122223333:distribution/EOTHER'))).toBe('implicit deny');
  });
});
