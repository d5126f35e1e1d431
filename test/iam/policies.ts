/**
 * The README IAM policies, read from the README (the README is the source), and their evaluation
 * against the calls the actions made, with @cloud-copilot/iam-simulate (IAM's evaluation logic:
 * actions, resources and conditions, wildcards, explicit and implicit deny).
 *
 * A README's "## IAM policy" section holds one or more ```json blocks (a policy, one statement,
 * or a list of statements: one block per feature); together they are the policy of a user of every
 * feature. Every statement has a Sid. Two kinds of lines in that section drive the check:
 * - `` - Example value `delivery-prod`: … `` — a name the reader replaces; the check reads it as `*`,
 *   so the tests' own names fit while resource types, ARN shapes and conditions still have to match;
 * - `` - `Sid` not exercised by the tests: reason `` (or `` `Sid` `action` ``) — a statement (or one
 *   action of it) for a path no e2e test reaches, accepted as unused.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { IamCall } from '../emulator/iam.js';

interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface ReadmePolicy {
  action: string;
  statements: Statement[];
  /** Example values read as `*`. */
  exampleValues: string[];
  /** `Sid` or `Sid action` → the README's reason it is not exercised. */
  unexercised: Map<string, string>;
}

const ACCOUNT = '123456789012';
const PRINCIPAL = `arn:aws:iam::${ACCOUNT}:role/deployer`;

/** The "## IAM policy" section of actions/<action>/README.md, parsed. */
export function readReadmePolicy(root: string, action: string): ReadmePolicy {
  const file = join('actions', action, 'README.md');
  const text = readFileSync(join(root, file), 'utf8');
  const start = text.search(/^## .*IAM policy.*$/m);
  if (start < 0) throw new Error(`${file}: no "## … IAM policy" section.`);
  const next = text.slice(start + 3).search(/^## /m);
  const section = next < 0 ? text.slice(start) : text.slice(start, start + 3 + next);
  const statements: Statement[] = [];
  for (const m of section.matchAll(/```json\n([\s\S]*?)```/g)) {
    const block = JSON.parse(m[1]!) as Statement | Statement[] | { Statement: Statement | Statement[] };
    const found = Array.isArray(block) ? block : 'Statement' in block ? [block.Statement].flat() : [block];
    statements.push(...found);
  }
  const sids = statements.map((s) => s.Sid);
  const missing = statements.filter((s) => !s.Sid);
  if (missing.length)
    throw new Error(`${file}: every policy statement needs a Sid (the check names statements by it); ${missing.length} have none.`);
  const twice = sids.filter((s, i) => sids.indexOf(s) !== i);
  if (twice.length) throw new Error(`${file}: Sid ${twice.join(', ')} used twice.`);
  // `- Example value `a`, `b`: …` — every backquoted value before the colon.
  const exampleValues = [...section.matchAll(/^- Example value ((?:`[^`]+`(?:, )?)+):/gm)].flatMap((m) =>
    [...m[1]!.matchAll(/`([^`]+)`/g)].map((v) => v[1]!),
  );
  const unexercised = new Map<string, string>();
  for (const m of section.matchAll(/^- `(\w+)`(?: `([\w:*-]+)`)? not exercised by the tests: (\S.*)$/gm)) {
    if (!sids.includes(m[1])) throw new Error(`${file}: "${m[0]}" names no statement's Sid.`);
    unexercised.set(m[2] ? `${m[1]} ${m[2]}` : m[1]!, m[3]!);
  }
  return { action, statements, exampleValues, unexercised };
}

/** The policy with every example value read as `*` (longest first, so `delivery-prod-api` goes before `delivery-prod`). */
function generalised(policy: ReadmePolicy): Statement[] {
  const values = [...policy.exampleValues].sort((a, b) => b.length - a.length);
  const general = (s: string) => values.reduce((acc, v) => acc.split(v).join('*'), s);
  const walk = (v: unknown): unknown =>
    typeof v === 'string'
      ? general(v)
      : Array.isArray(v)
        ? v.map(walk)
        : v && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]))
          : v;
  return policy.statements.map((s) => ({
    ...s,
    Resource: walk(s.Resource) as string | string[],
    ...(s.Condition ? { Condition: walk(s.Condition) as Statement['Condition'] } : {}),
  }));
}

export interface Evaluation {
  /** Calls the policy does not allow, with the reason the engine gave. */
  denied: { call: IamCall; result: string }[];
  /** `Sid` (no call allowed by it) or `Sid action` (the statement never allowed a call of that action). */
  unused: string[];
}

const asList = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Evaluates every distinct call against the policy; which statement allowed which call comes from the engine's explains. */
export async function evaluate(policy: ReadmePolicy, calls: IamCall[]): Promise<Evaluation> {
  const statements = generalised(policy);
  const identityPolicies = [{ name: `${policy.action}-readme`, policy: { Version: '2012-10-17', Statement: statements } }];
  const used = new Set<string>();
  const denied: Evaluation['denied'] = [];
  const distinct = new Map(calls.map((c) => [JSON.stringify([c.action, c.resource, c.context ?? {}]), c]));
  for (const call of distinct.values()) {
    const response = await runSimulation(
      {
        identityPolicies,
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        request: {
          action: call.action,
          principal: PRINCIPAL,
          resource: { resource: call.resource, accountId: ACCOUNT },
          contextVariables: call.context ?? {},
        },
      },
      {},
    );
    if (response.resultType === 'error') {
      denied.push({ call, result: `the engine refused the request: ${JSON.stringify(response.errors)}` });
      continue;
    }
    if (response.overallResult !== 'Allowed') denied.push({ call, result: response.overallResult });
    const analyses = response.resultType === 'single' ? [response.result.analysis] : response.results.map((r) => r.analysis);
    for (const analysis of analyses) {
      for (const s of analysis?.identityAnalysis?.allowStatements ?? []) {
        const explain = s.explain;
        used.add(explain.identifier);
        for (const a of asList(explain.actions)) if (a.matches) used.add(`${explain.identifier} ${a.action}`);
      }
    }
  }
  const unused: string[] = [];
  for (const s of policy.statements) {
    if (s.Effect !== 'Allow') continue;
    const sid = s.Sid!;
    if (!used.has(sid)) {
      if (!policy.unexercised.has(sid)) unused.push(sid);
      continue;
    }
    for (const a of asList(s.Action)) {
      const key = `${sid} ${a}`;
      if (!used.has(key) && !policy.unexercised.has(key) && !policy.unexercised.has(sid)) unused.push(key);
    }
  }
  return { denied, unused };
}
