/**
 * Amazon EventBridge (rules and targets). @aws-sdk/client-eventbridge speaks awsJson1_1 with
 * `X-Amz-Target: AWSEvents.<Operation>`. The operations follow the API reference:
 *   PutRule, DescribeRule          docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html, API_DescribeRule.html
 *   PutTargets                     API_PutTargets.html: adds targets, or replaces the one with the same Id
 *   ListTargetsByRule              API_ListTargetsByRule.html (Limit 1–100)
 *   ListRuleNamesByTarget          API_ListRuleNamesByTarget.html: the rules of one bus that invoke TargetArn
 *   ListEventBuses                 API_ListEventBuses.html (the `default` bus always exists)
 * An unknown rule is ResourceNotFoundException "Rule <name> does not exist on EventBus <bus>."
 * (the message text is modelled, not documented).
 */
import { AwsError, paginate, requireString, type EmuContext, type JsonOperations } from './core.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

interface Rule {
  Name: string;
  EventBusName: string;
  ScheduleExpression?: string;
  EventPattern?: string;
  State: string;
  Description?: string;
  targets: Json[];
}

export class EventsService {
  private readonly buses = new Set(['default']);
  private readonly rules = new Map<string, Rule>();

  constructor(private readonly ctx: EmuContext) {}

  private busName(nameOrArn: string | undefined): string {
    const name = nameOrArn?.startsWith('arn:')
      ? nameOrArn.slice(nameOrArn.indexOf(':event-bus/') + ':event-bus/'.length)
      : (nameOrArn ?? 'default');
    if (!this.buses.has(name)) throw new AwsError('ResourceNotFoundException', `Event bus ${name} does not exist.`);
    return name;
  }

  private ruleArn(r: Rule): string {
    return `arn:aws:events:${this.ctx.region}:${this.ctx.account}:rule/${r.EventBusName === 'default' ? '' : `${r.EventBusName}/`}${r.Name}`;
  }

  private rule(name: unknown, bus: string | undefined): Rule {
    const b = this.busName(bus);
    const r = this.rules.get(`${b}/${requireString(name, 'Rule', 'ValidationException')}`);
    if (!r) throw new AwsError('ResourceNotFoundException', `Rule ${String(name)} does not exist on EventBus ${b}.`);
    return r;
  }

  /** Seeding: a custom event bus. */
  createEventBus(name: string): void {
    this.buses.add(name);
  }

  /** Seeding and PutRule; returns the rule ARN. */
  putRule(input: {
    Name: string;
    EventBusName?: string;
    ScheduleExpression?: string;
    EventPattern?: string;
    State?: string;
    Description?: string;
  }): string {
    const bus = this.busName(input.EventBusName);
    if (!input.ScheduleExpression && !input.EventPattern)
      throw new AwsError('ValidationException', 'Parameter(s) ScheduleExpression or EventPattern must be specified.');
    const old = this.rules.get(`${bus}/${input.Name}`);
    const r: Rule = {
      Name: input.Name,
      EventBusName: bus,
      ScheduleExpression: input.ScheduleExpression,
      EventPattern: input.EventPattern,
      State: input.State ?? 'ENABLED',
      Description: input.Description,
      targets: old?.targets ?? [],
    };
    this.rules.set(`${bus}/${input.Name}`, r);
    return this.ruleArn(r);
  }

  /** Seeding and PutTargets: a target with an Id the rule has replaces that target as a whole. */
  putTargets(rule: string, bus: string | undefined, targets: Json[]): void {
    const r = this.rule(rule, bus);
    for (const t of targets) {
      if (!t.Id || !t.Arn) throw new AwsError('ValidationException', 'Each target needs Id and Arn.');
      const copy = structuredClone(t);
      const i = r.targets.findIndex((x) => x.Id === t.Id);
      if (i >= 0) r.targets[i] = copy;
      else r.targets.push(copy);
    }
  }

  /** The targets of a rule as ListTargetsByRule returns them (for tests). */
  targets(rule: string, bus?: string): Json[] {
    return structuredClone(this.rule(rule, bus).targets);
  }

  operations(): JsonOperations {
    const page = <T>(scope: string, items: T[], input: Json) =>
      paginate(scope, items, {
        nextToken: input.NextToken,
        maxResults: input.Limit,
        defaultMax: 100,
        limit: 100,
        errorCode: 'ValidationException',
        paramName: 'Limit',
      });
    return {
      PutRule: (input: Json) => ({ RuleArn: this.putRule(input as Parameters<EventsService['putRule']>[0]) }),
      DescribeRule: (input: Json) => {
        const r = this.rule(input.Name, input.EventBusName);
        return {
          Name: r.Name,
          Arn: this.ruleArn(r),
          EventBusName: r.EventBusName,
          ScheduleExpression: r.ScheduleExpression,
          EventPattern: r.EventPattern,
          State: r.State,
          Description: r.Description,
        };
      },
      PutTargets: (input: Json) => {
        this.putTargets(input.Rule, input.EventBusName, input.Targets ?? []);
        return { FailedEntryCount: 0, FailedEntries: [] };
      },
      ListTargetsByRule: (input: Json) => {
        const { page: Targets, nextToken } = page(
          `events.ListTargetsByRule.${input.Rule}`,
          this.targets(input.Rule, input.EventBusName),
          input,
        );
        return nextToken ? { Targets, NextToken: nextToken } : { Targets };
      },
      ListRuleNamesByTarget: (input: Json) => {
        const target = requireString(input.TargetArn, 'TargetArn', 'ValidationException');
        const bus = this.busName(input.EventBusName);
        const names = [...this.rules.values()]
          .filter((r) => r.EventBusName === bus && r.targets.some((t) => t.Arn === target))
          .map((r) => r.Name);
        const { page: RuleNames, nextToken } = page(`events.ListRuleNamesByTarget.${bus}`, names, input);
        return nextToken ? { RuleNames, NextToken: nextToken } : { RuleNames };
      },
      ListEventBuses: (input: Json) => {
        const buses = [...this.buses].map((Name) => ({
          Name,
          Arn: `arn:aws:events:${this.ctx.region}:${this.ctx.account}:event-bus/${Name}`,
        }));
        const { page: EventBuses, nextToken } = page('events.ListEventBuses', buses, input);
        return nextToken ? { EventBuses, NextToken: nextToken } : { EventBuses };
      },
    };
  }
}
