/**
 * An in-memory S3 for the oracle (schedules.test.ts): the commands
 * deploy-static sends, with S3's conditional writes (If-None-Match / If-Match
 * on PutObject and DeleteObject, CopySourceIfMatch on CopyObject: the S3 user
 * guide, "How to prevent object overwrites with conditional writes",
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html),
 * Content-MD5 checked as S3 checks it (PutObject API reference), listings in
 * UTF-8 binary key order with StartAfter, continuation and a `/` delimiter
 * (ListObjectsV2 API reference), and S3's clock on every answer: LastModified
 * and, on errors, the `Date` header (as `$response.headers.date`, where the
 * SDK puts it). Time is the process's Date (a fake clock in the oracle).
 * Everything else S3 does is out of scope: no versioning, no multipart, one
 * bucket.
 */
import { createHash } from 'node:crypto';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';

export interface StoredObject {
  body: Buffer;
  etag: string;
  lastModified: number;
  contentType?: string;
  cacheControl?: string;
  metadata?: Record<string, string>;
}

export class S3Error extends Error {
  $metadata: { httpStatusCode: number };
  $fault: 'client' | 'server';
  $response: { headers: Record<string, string> };
  constructor(status: number, code: string) {
    super(`${code} (${status})`);
    this.name = code;
    this.$metadata = { httpStatusCode: status };
    this.$fault = status >= 500 ? 'server' : 'client';
    this.$response = { headers: { date: new Date(Date.now()).toUTCString() } };
  }
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const unq = (e: string | undefined) => (e ?? '').replace(/"/g, '');
const toBuffer = (body: unknown): Buffer =>
  Buffer.isBuffer(body)
    ? body
    : typeof body === 'string'
      ? Buffer.from(body)
      : body instanceof Uint8Array
        ? Buffer.from(body)
        : Buffer.alloc(0);

/** Whole seconds, as S3 reports LastModified. */
const seconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);

interface Input {
  Key?: string;
  Body?: unknown;
  IfNoneMatch?: string;
  IfMatch?: string;
  ContentMD5?: string;
  ContentType?: string;
  CacheControl?: string;
  Metadata?: Record<string, string>;
  CopySource?: string;
  CopySourceIfMatch?: string;
  MetadataDirective?: string;
  Delete?: { Objects?: { Key?: string }[] };
}

export class MemoryS3 {
  readonly objects = new Map<string, StoredObject>();
  /** Called after every write S3 applied (the oracle checks its invariants here). */
  onWrite: (what: string) => void = () => {};

  constructor(readonly bucket: string) {}

  /** Is this command a write (it changes what is stored)? */
  static isWrite(command: object): boolean {
    return (
      command instanceof PutObjectCommand ||
      command instanceof CopyObjectCommand ||
      command instanceof DeleteObjectCommand ||
      command instanceof DeleteObjectsCommand
    );
  }

  /** Applies one command now; returns S3's answer or throws its error. */
  apply(command: { input: Record<string, unknown> }): unknown {
    const input = command.input as Input;
    const key = input.Key ?? '';
    const now = Date.now();
    if (command instanceof ListObjectsV2Command) return this.list(command.input);
    if (command instanceof GetObjectCommand || command instanceof HeadObjectCommand) {
      const o = this.objects.get(key);
      if (!o) throw new S3Error(404, command instanceof GetObjectCommand ? 'NoSuchKey' : 'NotFound');
      const text = o.body.toString();
      return {
        ETag: `"${o.etag}"`,
        LastModified: seconds(o.lastModified),
        ContentLength: o.body.length,
        ContentType: o.contentType,
        CacheControl: o.cacheControl,
        Metadata: { ...o.metadata },
        ...(command instanceof GetObjectCommand
          ? { Body: { transformToString: async () => text, transformToByteArray: async () => new Uint8Array(o.body) } }
          : {}),
      };
    }
    if (command instanceof PutObjectCommand) {
      const body = toBuffer(input.Body);
      const current = this.objects.get(key);
      if (input.IfNoneMatch === '*' && current) throw new S3Error(412, 'PreconditionFailed');
      if (input.IfMatch !== undefined) {
        if (!current) throw new S3Error(404, 'NoSuchKey');
        if (unq(input.IfMatch) !== current.etag) throw new S3Error(412, 'PreconditionFailed');
      }
      if (input.ContentMD5 !== undefined && Buffer.from(input.ContentMD5, 'base64').toString('hex') !== md5(body))
        throw new S3Error(400, 'BadDigest');
      const etag = md5(body);
      this.objects.set(key, {
        body,
        etag,
        lastModified: now,
        contentType: input.ContentType,
        cacheControl: input.CacheControl,
        metadata: { ...(input.Metadata ?? {}) },
      });
      this.onWrite(`PUT ${key}`);
      return { ETag: `"${etag}"` };
    }
    if (command instanceof CopyObjectCommand) {
      const source = decodeURIComponent(String(input.CopySource).replace(/^\//, '')).slice(this.bucket.length + 1);
      const src = this.objects.get(source);
      if (!src) throw new S3Error(404, 'NoSuchKey');
      if (input.CopySourceIfMatch !== undefined && unq(input.CopySourceIfMatch) !== src.etag) throw new S3Error(412, 'PreconditionFailed');
      const replace = input.MetadataDirective === 'REPLACE';
      const copy: StoredObject = {
        body: src.body,
        etag: src.etag,
        lastModified: now,
        ...(replace
          ? { contentType: input.ContentType, cacheControl: input.CacheControl, metadata: { ...(input.Metadata ?? {}) } }
          : { contentType: src.contentType, cacheControl: src.cacheControl, metadata: { ...src.metadata } }),
      };
      this.objects.set(key, copy);
      this.onWrite(`COPY ${source} -> ${key}`);
      return { CopyObjectResult: { ETag: `"${copy.etag}"`, LastModified: seconds(now) } };
    }
    if (command instanceof DeleteObjectCommand) {
      const current = this.objects.get(key);
      if (input.IfMatch !== undefined) {
        if (!current) throw new S3Error(404, 'NoSuchKey');
        if (unq(input.IfMatch) !== current.etag) throw new S3Error(412, 'PreconditionFailed');
      }
      this.objects.delete(key);
      this.onWrite(`DELETE ${key}`);
      return {};
    }
    if (command instanceof DeleteObjectsCommand) {
      const keys = (input.Delete?.Objects ?? []).map((o) => o.Key ?? '');
      for (const k of keys) this.objects.delete(k);
      this.onWrite(`DELETE ${keys.length} keys`);
      return { Errors: [] };
    }
    throw new Error(`memory S3: ${command.constructor.name} is not modelled`);
  }

  private list(input: Record<string, unknown>): unknown {
    const prefix = (input.Prefix as string | undefined) ?? '';
    const after = (input.ContinuationToken as string | undefined) ?? (input.StartAfter as string | undefined) ?? '';
    const max = Math.min(1000, (input.MaxKeys as number | undefined) ?? 1000);
    const keys = [...this.objects.keys()]
      .filter((k) => k.startsWith(prefix) && k > after)
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const contents: { Key: string; ETag: string; Size: number; LastModified: Date }[] = [];
    const common = new Set<string>();
    let last = '';
    for (const k of keys) {
      if (contents.length + common.size >= max) return this.page(contents, common, true, last);
      last = k;
      const rest = k.slice(prefix.length);
      if (input.Delimiter === '/' && rest.includes('/')) common.add(prefix + rest.slice(0, rest.indexOf('/') + 1));
      else {
        const o = this.objects.get(k)!;
        contents.push({ Key: k, ETag: `"${o.etag}"`, Size: o.body.length, LastModified: seconds(o.lastModified) });
      }
    }
    return this.page(contents, common, false, last);
  }

  private page(contents: unknown[], common: Set<string>, truncated: boolean, last: string) {
    return {
      Contents: contents,
      CommonPrefixes: [...common].map((Prefix) => ({ Prefix })),
      IsTruncated: truncated,
      ...(truncated ? { NextContinuationToken: last } : {}),
    };
  }
}
