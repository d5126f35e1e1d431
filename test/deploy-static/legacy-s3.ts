/**
 * The test S3 (s3rver behind the counting proxy) in a child node started
 * with OpenSSL's legacy provider: s3rver 3.7 encrypts ListObjectsV2
 * continuation tokens with DES, so in the test process any truncated listing
 * page fails with InternalError (test/emulator/CONTRACT.md). For the few tests
 * that need listings of more than one page.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

export async function startPagingLocalS3(buckets: string[]): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', '--import', 'tsx', join(import.meta.dirname, 'legacy-s3-main.ts'), ...buckets],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const endpoint = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolve((JSON.parse(line!) as { endpoint: string }).endpoint);
    });
    child.once('exit', (code) => reject(new Error(`the paging test S3 exited with ${code} before it started`)));
  });
  return {
    endpoint,
    stop: async () => {
      const exited = once(child, 'exit');
      child.stdin.end();
      await exited;
    },
  };
}
