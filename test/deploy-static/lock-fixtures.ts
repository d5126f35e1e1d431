import { S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { DeployLock } from '../../actions/deploy-static/lock.js';
import { stateOf } from '../../actions/deploy-static/state.js';

/** A 412 as the SDK gives it; `serverTime` becomes the answer's Date header (S3's clock). */
export const preconditionFailed = (serverTime?: number) => {
  const err = new S3ServiceException({
    name: 'PreconditionFailed',
    $fault: 'client',
    $metadata: { httpStatusCode: 412 },
    message: 'At least one of the pre-conditions you specified did not hold',
  });
  if (serverTime !== undefined)
    Object.defineProperty(err, '$response', { value: { headers: { date: new Date(serverTime).toUTCString() } } });
  return err;
};
export const serverError = () =>
  new S3ServiceException({
    name: 'InternalError',
    $fault: 'server',
    $metadata: { httpStatusCode: 500 },
    message: 'We encountered an internal error',
  });
/** A GetObject answer with the lock body (only transformToString is read); LastModified is S3's clock. */
export const body = (owner: string, beatAt: number, lastModified = beatAt, token = 't-1') => {
  const text = JSON.stringify({
    owner,
    token,
    where: 'https://github.com/acme/web/actions/runs/7',
    acquiredAt: new Date(beatAt).toISOString(),
    heartbeatAt: new Date(beatAt).toISOString(),
  });
  return { ETag: '"held"', LastModified: new Date(lastModified), Body: { transformToString: async () => text } as never };
};

/** A lock on a fake clock; `timers` are the heartbeats it scheduled, fired by the test. */
export function lockWith(clock: { t: number }, lines: string[], timers: { ms: number; fn: () => void }[] = []) {
  const deps = {
    s3: new S3Client({ region: 'eu-west-1' }),
    now: () => clock.t,
    sleep: async (ms: number) => void (clock.t += ms),
    log: (l: string) => lines.push(l),
    timer: (ms: number, fn: () => void) => {
      const t = { ms, fn };
      timers.push(t);
      return () => void timers.splice(timers.indexOf(t), 1);
    },
    token: 'mine',
  };
  return new DeployLock(
    deps,
    stateOf({ bucket: 'site', prefix: 'app/' }),
    'run-2',
    'https://github.com/acme/web/actions/runs/8',
    's3://site/app/',
  );
}

/** Fires the pending heartbeat and lets its requests answer (and what follows them: the next heartbeat scheduled). */
export async function beat(timers: { fn: () => void }[]): Promise<void> {
  const t = timers.shift();
  t?.fn();
  await settle();
}

/** Lets every answer already given be handled: the mocked S3 answers are promises, no timer is involved. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}
