/**
 * ECS ListServiceDeployments / DescribeServiceDeployments: the same deployment
 * timelines seen through the newer "service deployment" API. A circuit-breaker
 * rollback is part of the failed service deployment (ROLLBACK_IN_PROGRESS →
 * ROLLBACK_SUCCESSFUL), not a service deployment of its own.
 */
import { AwsError, epochSeconds, paginate, type EmuContext, type JsonOperations } from '../core.js';
import type { Clusters } from './clusters.js';
import type { Deployment } from './deployments.js';
import { stageAt } from './lifecycle-hooks.js';
import type { Service, Services } from './services.js';

const BAD = 'InvalidParameterException';
const CIRCUIT_BREAKER_REASON = 'ECS deployment circuit breaker: tasks failed to start.';

const NATIVE = new Set(['BLUE_GREEN', 'LINEAR', 'CANARY']);

/** Where a native deployment is in its lifecycle (the stage model and its sources: lifecycle-hooks.ts `lifecycleSteps`). */
function lifecycleStage(s: Service, d: Deployment, now: number): string {
  if (d.completesAt === undefined || !Number.isFinite(d.completesAt)) return 'SCALE_UP'; // stuck or failing: the green tasks never become healthy
  const f = (now - d.createdAt) / Math.max(1, d.completesAt - d.createdAt);
  return stageAt(String(s.deploymentConfiguration.strategy), s.deploymentConfiguration, f);
}

export function serviceDeploymentOperations(ctx: EmuContext, clusters: Clusters, services: Services): JsonOperations {
  const { deployer } = services;
  const arnOf = (s: Service, d: Deployment) =>
    `arn:aws:ecs:${ctx.region}:${ctx.account}:service-deployment/${s.clusterName}/${s.name}/${d.serviceDeploymentId}`;
  const revisionArn = (s: Service, d: Deployment) =>
    `arn:aws:ecs:${ctx.region}:${ctx.account}:service-revision/${s.clusterName}/${s.name}/${d.id.slice('ecs-svc/'.length)}`;
  const listed = (s: Service, now: number) => s.deployments.filter((d) => d.kind !== 'rollback' && d.createdAt <= now);

  function state(
    s: Service,
    d: Deployment,
    now: number,
  ): { status: string; statusReason?: string; finishedAt?: number; stoppedAt?: number } {
    const rollback = d.rollback && d.rollback.createdAt <= now ? d.rollback : undefined;
    if (rollback) {
      const done = rollback.completesAt !== undefined && rollback.completesAt <= now;
      // StopServiceDeployment: "moves to the ROLLBACK_REQUESTED state, and then the rollback operation starts".
      const status = done ? 'ROLLBACK_SUCCESSFUL' : now - rollback.createdAt < 100 ? 'ROLLBACK_REQUESTED' : 'ROLLBACK_IN_PROGRESS';
      return { status, statusReason: d.rollbackReason ?? CIRCUIT_BREAKER_REASON, ...(done ? { finishedAt: rollback.completesAt } : {}) };
    }
    if (d.failsAt !== undefined && d.failsAt <= now)
      return { status: 'STOPPED', statusReason: CIRCUIT_BREAKER_REASON, stoppedAt: d.failsAt, finishedAt: d.failsAt };
    if (d.completesAt !== undefined && d.completesAt <= now) return { status: 'SUCCESSFUL', finishedAt: d.completesAt };
    const newer = listed(s, now).find((x) => s.deployments.indexOf(x) > s.deployments.indexOf(d));
    if (newer)
      return {
        status: 'STOPPED',
        statusReason: `Service deployment stopped because service deployment ${arnOf(s, newer)} started.`,
        stoppedAt: newer.createdAt,
        finishedAt: newer.createdAt,
      };
    return { status: 'IN_PROGRESS' };
  }

  function revision(s: Service, d: Deployment, now: number) {
    const c = deployer.counts(d, now);
    const drained = d.drainedAt !== undefined && d.drainedAt <= now;
    return {
      arn: revisionArn(s, d),
      requestedTaskCount: drained ? 0 : d.desiredCount,
      runningTaskCount: c.running,
      pendingTaskCount: c.pending,
    };
  }

  function full(s: Service, d: Deployment, now: number) {
    const st = state(s, d, now);
    const cb = s.deploymentConfiguration.deploymentCircuitBreaker as { enable: boolean; rollback: boolean };
    const failed = deployer.counts(d, now).failed;
    const t = (ms?: number) => (ms !== undefined ? epochSeconds(ms) : undefined);
    return {
      serviceDeploymentArn: arnOf(s, d),
      serviceArn: s.arn,
      clusterArn: s.clusterArn,
      createdAt: t(d.createdAt),
      startedAt: t(d.createdAt),
      ...(st.finishedAt !== undefined ? { finishedAt: t(st.finishedAt) } : {}),
      ...(st.stoppedAt !== undefined ? { stoppedAt: t(st.stoppedAt) } : {}),
      updatedAt: t(Math.max(d.createdAt, st.finishedAt ?? 0)),
      sourceServiceRevisions: d.sources.map((src) => revision(s, src, now)),
      targetServiceRevision: revision(s, d, now),
      status: st.status,
      ...(st.statusReason ? { statusReason: st.statusReason } : {}),
      ...(NATIVE.has(String(s.deploymentConfiguration.strategy))
        ? { lifecycleStage: lifecycleStage(s, d, Math.min(now, st.finishedAt ?? now)) }
        : {}),
      deploymentConfiguration: s.deploymentConfiguration,
      ...(d.rollback && d.rollback.createdAt <= now
        ? {
            rollback: {
              reason: d.rollbackReason ?? CIRCUIT_BREAKER_REASON,
              startedAt: t(d.rollback.createdAt),
              serviceRevisionArn: revisionArn(s, d.rollback.rollbackTo!),
            },
          }
        : {}),
      deploymentCircuitBreaker: {
        status:
          !cb?.enable && d.failsAt === undefined
            ? 'DISABLED'
            : d.failsAt !== undefined && d.failsAt <= now
              ? 'TRIGGERED'
              : st.status === 'SUCCESSFUL'
                ? 'MONITORING_COMPLETE'
                : 'MONITORING',
        failureCount: failed,
        threshold: Math.min(200, Math.max(3, Math.ceil(d.desiredCount * 0.5))),
      },
    };
  }

  function findByArn(arn: string): { s: Service; d: Deployment } | undefined {
    const m = /^arn:[^:]+:ecs:[^:]*:\d*:service-deployment\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(arn);
    if (!m) return undefined;
    const s = clusters.find(m[1]) ? services.find(m[1], m[2]!) : undefined;
    const d = s?.deployments.find((x) => x.serviceDeploymentId === m[3] && x.kind !== 'rollback' && x.createdAt <= ctx.now());
    return s && d ? { s, d } : undefined;
  }

  return {
    ListServiceDeployments: (input: {
      service: string;
      cluster?: string;
      status?: string[];
      createdAt?: { before?: number; after?: number };
      nextToken?: string;
      maxResults?: number;
    }) => {
      const cluster = clusters.resolve(input.cluster);
      const s = input.service ? services.find(cluster.arn, input.service) : undefined;
      if (!s) throw new AwsError('ServiceNotFoundException', 'Service not found.');
      const now = ctx.now();
      const rows = listed(s, now)
        .reverse()
        .map((d) => ({ d, st: state(s, d, now) }))
        .filter(({ st }) => !input.status?.length || input.status.includes(st.status))
        .filter(({ d }) => input.createdAt?.after === undefined || d.createdAt >= input.createdAt.after * 1000)
        .filter(({ d }) => input.createdAt?.before === undefined || d.createdAt <= input.createdAt.before * 1000);
      const { page, nextToken } = paginate(`ListServiceDeployments:${s.arn}`, rows, {
        nextToken: input.nextToken,
        maxResults: input.maxResults,
        defaultMax: 20,
        limit: 100,
        errorCode: BAD,
      });
      return {
        serviceDeployments: page.map(({ d, st }) => ({
          serviceDeploymentArn: arnOf(s, d),
          serviceArn: s.arn,
          clusterArn: s.clusterArn,
          createdAt: epochSeconds(d.createdAt),
          startedAt: epochSeconds(d.createdAt),
          ...(st.finishedAt !== undefined ? { finishedAt: epochSeconds(st.finishedAt) } : {}),
          targetServiceRevisionArn: revisionArn(s, d),
          status: st.status,
          ...(st.statusReason ? { statusReason: st.statusReason } : {}),
        })),
        ...(nextToken ? { nextToken } : {}),
      };
    },
    // https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_StopServiceDeployment.html and
    // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stop-service-deployment.html: only an
    // ongoing deployment can be stopped; one already rolling back "continues the rollback operation".
    StopServiceDeployment: (input: { serviceDeploymentArn: string; stopType?: string }) => {
      if (!input.serviceDeploymentArn) throw new AwsError(BAD, 'serviceDeploymentArn is required.');
      if (input.stopType !== undefined && input.stopType !== 'ROLLBACK' && input.stopType !== 'ABORT')
        throw new AwsError(BAD, `Invalid stopType: ${input.stopType}.`);
      const found = findByArn(input.serviceDeploymentArn);
      if (!found) throw new AwsError('ServiceDeploymentNotFoundException', 'The service deployment does not exist.');
      const now = ctx.now();
      const st = state(found.s, found.d, now);
      if (st.status.startsWith('ROLLBACK_REQUESTED') || st.status === 'ROLLBACK_IN_PROGRESS')
        return { serviceDeploymentArn: input.serviceDeploymentArn };
      if (st.status !== 'IN_PROGRESS' && st.status !== 'PENDING') {
        throw new AwsError('ConflictException', `The service deployment is ${st.status} and cannot be stopped.`);
      }
      if (!deployer.stopAndRollBack(found.s, found.d, now, found.d.rollbackSeconds ?? 1)) {
        throw new AwsError('ConflictException', 'There is no previous service revision to roll back to.');
      }
      return { serviceDeploymentArn: input.serviceDeploymentArn };
    },
    DescribeServiceDeployments: (input: { serviceDeploymentArns: string[] }) => {
      if (!input.serviceDeploymentArns?.length) throw new AwsError(BAD, 'serviceDeploymentArns cannot be empty.');
      if (input.serviceDeploymentArns.length > 20) throw new AwsError(BAD, 'serviceDeploymentArns can have at most 20 items.');
      const now = ctx.now();
      const serviceDeployments: unknown[] = [];
      const failures: unknown[] = [];
      for (const arn of input.serviceDeploymentArns) {
        const found = findByArn(arn);
        if (found) serviceDeployments.push(full(found.s, found.d, now));
        else failures.push({ arn, reason: 'MISSING' });
      }
      return { serviceDeployments, failures };
    },
  };
}
