/**
 * What must hold in every schedule.
 *
 * At every step (each request answered; writes also checked as they arrive):
 * - S1 no service has more than one deployment of ours in progress (a deployment replaced by a newer
 *   one, or being rolled back, is not in progress: ECS stopped it);
 * - S2 every UpdateService of ours names the revision this run registered or the service's last
 *   SUCCESSFUL revision: never a FAILED one, never another; none starts after the cancel;
 * - S3 StopServiceDeployment only on a deployment of ours (another deployer's is never rolled back);
 * - S4 ContinueServiceDeployment CONTINUE only at a pause with test traffic on the new revision, after
 *   the gate saw `gate-successes` healthy answers from that revision.
 * At the end (every ending but a kill):
 * - E0 deploy() returned a result (main.ts writes outputs and the summary from it), and they render;
 * - E1 exit 0 ⇔ every service is steady on the new revision and, where a gate is set, the gate passed
 *   on probes the new revision answered (⇐ only for runs without a cancel or another deployer);
 * - E2 on failure every service this run updated ends on its last SUCCESSFUL revision or in ECS's own
 *   rollback (or, superseded, on the other deployer's revision): never on a FAILED revision.
 * After a kill, S1 still holds for what was left.
 */
import { gateOutput } from '../../../actions/deploy-ecs/gate-report.js';
import type { DeployResult } from '../../../actions/deploy-ecs/deploy-types.js';
import { summaryMarkdown } from '../../../actions/deploy-ecs/summary.js';
import type { Deployment } from '../../emulator/ecs/deployments.js';
import type { Exchange } from './wire.js';
import type { World } from './world.js';

export class Checker {
  checks = 0;
  readonly violations: string[] = [];
  cancelled = false;

  constructor(private readonly w: World) {}

  check(ok: boolean, what: () => string): void {
    this.checks++;
    if (!ok) this.violations.push(what());
  }

  /** Is `d` one of the service's deployments ECS still runs as in progress (not replaced, not being rolled back)? */
  private inProgress(name: string, d: Deployment): boolean {
    const now = this.w.time.now();
    const s = this.w.service(name);
    const v = this.w.visible(name).find((x) => x.d === d);
    if (!v || v.state !== 'IN_PROGRESS' || (d.rollback && d.rollback.createdAt <= now)) return false;
    const at = s.deployments.indexOf(d);
    return !s.deployments.some((x, i) => i > at && x.createdAt <= now && x !== d.rollback);
  }

  /** A write, as it arrives (before it is applied). */
  request(e: Exchange, newRevisions: Set<string>): void {
    const i = e.input;
    if (e.operation === 'UpdateService' && i.taskDefinition) {
      const svc = String(i.service);
      const td = this.w.ecs.taskdefs.find(String(i.taskDefinition))?.taskDefinitionArn ?? String(i.taskDefinition);
      const allowed = newRevisions.has(td) || td === this.w.lastSuccessful.get(svc);
      this.check(
        allowed && !this.w.failedRevisions.has(td),
        () =>
          `S2 #${e.index} UpdateService ${svc} → ${rev(td)}: neither this run's revision nor its last SUCCESSFUL (${rev(this.w.lastSuccessful.get(svc))})`,
      );
      this.check(
        !(this.cancelled && newRevisions.has(td)),
        () => `S2 #${e.index} UpdateService ${svc} → ${rev(td)} started after the cancel`,
      );
    }
    if (e.operation === 'StopServiceDeployment') {
      const sdId = String(i.serviceDeploymentArn).split('/').pop();
      const svc = String(i.serviceDeploymentArn).split('/').at(-2)!;
      const mine = [...(this.w.ours.get(svc) ?? [])].some((d) => d.serviceDeploymentId === sdId);
      this.check(mine, () => `S3 #${e.index} StopServiceDeployment on ${svc}'s deployment ${sdId}, not one of ours`);
    }
    if (e.operation === 'ContinueServiceDeployment' && (i.action ?? 'CONTINUE') === 'CONTINUE') {
      const svc = String(i.serviceDeploymentArn).split('/').at(-2)!;
      const sdId = String(i.serviceDeploymentArn).split('/').pop();
      const target = this.w.service(svc).deployments.find((d) => d.serviceDeploymentId === sdId)?.def.taskDefinitionArn;
      if (target && !newRevisions.has(target)) {
        // A rollback's deployment paused at the service's hook: continued only towards the last SUCCESSFUL revision.
        this.check(
          target === this.w.lastSuccessful.get(svc),
          () => `S4 #${e.index} CONTINUE for ${svc}'s deployment of ${rev(target)}, neither the new revision nor its last SUCCESSFUL`,
        );
      } else {
        const behind = this.w.ecs.hooks.testTarget(this.w.cluster, svc)?.taskDefinitionArn;
        const need = this.w.schedule.gate?.successes ?? 1;
        const healthy = this.w.probes.filter((p) => p.service === svc && p.healthy && p.revision && newRevisions.has(p.revision));
        this.check(
          !!behind && newRevisions.has(behind) && healthy.length >= need,
          () =>
            `S4 #${e.index} CONTINUE for ${svc} with ${rev(behind)} behind the test listener and ${healthy.length} healthy probe(s) of the new revision (need ${need})`,
        );
      }
    }
  }

  /** After every answered request. */
  step(e: Exchange | undefined): void {
    for (const s of this.w.schedule.services) {
      const live = [...(this.w.ours.get(s.name) ?? [])].filter((d) => this.inProgress(s.name, d));
      this.check(
        live.length <= 1,
        () =>
          `S1 ${e ? `#${e.index}` : 'end'} ${s.name}: ${live.length} deployments of ours in progress (${live.map((d) => rev(d.def.taskDefinitionArn)).join(', ')})`,
      );
    }
  }

  /** E0 for an in-process run: deploy() returned, and its outputs and summary render. Then E1 and E2. */
  end(result: DeployResult | undefined, thrown: unknown): void {
    this.check(
      result !== undefined,
      () => `E0 deploy() threw instead of returning a result: ${String((thrown as Error)?.stack ?? thrown)}`,
    );
    if (!result) return this.step(undefined);
    let rendered = '';
    try {
      rendered = summaryMarkdown(result, this.w.cluster) + gateOutput(result.gates ?? []);
    } catch (err) {
      this.violations.push(`E0 the summary or outputs cannot be rendered: ${String(err)}`);
    }
    this.check(rendered.length > 0, () => 'E0 empty summary');
    const story = `status=${result.status} gate=${gateOutput(result.gates ?? [])} services: ${result.services.map((r) => `${r.service} ${r.result}${r.reason ? ` (${r.reason})` : ''}`).join('; ')}`;
    this.ending({
      exit0: !result.error,
      newArn: result.taskDefinitionArn,
      superseded: new Set(result.services.filter((r) => r.result === 'superseded').map((r) => r.service)),
      gatePassed: (name) => (result.gates ?? []).some((g) => g.service === name && g.status === 'passed'),
      story,
    });
  }

  /** E1 and E2 (and S1) on how a run ended: from deploy()'s result, or from a bundle's exit code and outputs. */
  ending(e: { exit0: boolean; newArn: string; superseded: Set<string>; gatePassed: (service: string) => boolean; story: string }): void {
    this.step(undefined);
    const { exit0, newArn, superseded } = e;
    const sched = this.w.schedule;
    const steady = (name: string) => {
      const v = this.w.visible(name);
      const top = v.at(-1);
      if (!top || top.d.def.taskDefinitionArn !== newArn || top.state !== 'COMPLETED') return false;
      return this.w.ecs.services.deployer.counts(top.d, this.w.time.now()).running === top.d.desiredCount;
    };
    // on-other-deployment: warn accepts another deployer's deployment in place of ours (never rolled back over).
    const excused = (name: string) => superseded.has(name) && sched.inputs['on-other-deployment'] === 'warn';
    const allSteady = sched.services.every((s) => steady(s.name) || excused(s.name));
    const gatePassed = sched.services.every((s) => {
      if (!sched.gate || excused(s.name)) return true;
      const probes = this.w.probes.filter((p) => p.service === s.name && p.healthy && p.revision === newArn);
      return probes.length >= sched.gate.successes && e.gatePassed(s.name);
    });
    const story = () => `${e.story}; ECS: ${this.ecsStory()}`;
    if (exit0)
      this.check(
        allSteady && gatePassed,
        () =>
          `E1 exit 0 but ${!allSteady ? 'not every service is steady on the new revision' : 'the gate did not pass on the new revision'}: ${story()}`,
      );
    const clean = !this.cancelled && !sched.services.some((s) => s.otherDeployer);
    if (!exit0 && clean && allSteady && gatePassed && (!sched.gate || sched.gate.healthy))
      this.violations.push(
        `E1 every service steady on the new revision${sched.gate ? ' and the gate passed' : ''}, yet exit ≠ 0: ${story()}`,
      );
    if (exit0) return;
    for (const s of sched.services) {
      if (!(this.w.ours.get(s.name)?.size ?? 0)) continue; // never updated by this run
      const top = this.w.visible(s.name).at(-1)?.d;
      const td = top?.def.taskDefinitionArn;
      const ecsRollback = !!top && top.kind === 'rollback' && !this.w.ours.get(s.name)!.has(top);
      const theirs = superseded.has(s.name) && !this.w.ours.get(s.name)!.has(top!);
      this.check(
        (td === this.w.lastSuccessful.get(s.name) || ecsRollback || theirs) && !this.w.failedRevisions.has(td ?? ''),
        () =>
          `E2 failed run left ${s.name} on ${rev(td)} (${top?.kind}), not its last SUCCESSFUL ${rev(this.w.lastSuccessful.get(s.name))}: ${story()}`,
      );
    }
  }

  ecsStory(): string {
    return this.w.schedule.services
      .map(
        (s) =>
          `${s.name}[${this.w
            .visible(s.name)
            .map((v) => `${rev(v.d.def.taskDefinitionArn)} ${v.d.kind} ${v.state}${this.w.ours.get(s.name)?.has(v.d) ? ' ours' : ''}`)
            .join(', ')}]`,
      )
      .join(' ');
  }
}

const rev = (arn: string | undefined) => (arn ? arn.split('/').pop()! : '(none)');
