/** Runs startLocalS3 for legacy-s3.ts in its own process; prints the endpoint, stops when stdin closes. */
import { startLocalS3 } from './local-s3.js';

const s3 = await startLocalS3(process.argv.slice(2));
process.stdout.write(`${JSON.stringify({ endpoint: s3.endpoint })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void s3.stop().finally(() => process.exit(0));
});
