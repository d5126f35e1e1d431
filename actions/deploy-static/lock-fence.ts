/**
 * The holder's side of fencing: an S3 client for the work done under the lock
 * whose every write (but the lock's own) must first pass the lock's fence, and
 * which counts the requests still in flight so a cancel can wait for them
 * before releasing. It lives apart from the lock protocol (lock.ts) because it
 * wraps someone else's client: the rule it enforces is decided by the lock.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { LockObject } from './lock-document.js';

const WRITES = [
  PutObjectCommand,
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  CompleteMultipartUploadCommand,
];

/**
 * `s3` with `fence(what)` run before each write that is not to the lock object
 * itself (it throws to stop the write), and each request added to `inFlight`
 * until it answers.
 */
export function fencedClient(s3: S3Client, lock: LockObject, fence: (what: string) => void, inFlight: Set<Promise<unknown>>): S3Client {
  const f = Object.create(s3) as S3Client;
  const send = s3.send.bind(s3) as (c: unknown, ...rest: unknown[]) => Promise<unknown>;
  f.send = ((command: { input?: { Key?: string; Bucket?: string } }, ...rest: unknown[]) => {
    if (WRITES.some((C) => command instanceof C) && (command.input?.Key !== lock.key || command.input?.Bucket !== lock.bucket)) {
      try {
        fence(`writing ${command.input?.Key ?? 'a batch of deletes'}`);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    const sent = send(command, ...rest);
    const settled: Promise<unknown> = sent.then(
      () => inFlight.delete(settled),
      () => inFlight.delete(settled),
    );
    inFlight.add(settled);
    return sent;
  }) as S3Client['send'];
  return f;
}
