/** AWS Secrets Manager (awsJson1_1, target prefix `secretsmanager`). */
import { randomBytes, randomUUID } from 'node:crypto';
import { registerSecretString } from '../helpers/fixture-secrets.js';
import { AwsError, epochSeconds, type EmuContext, type JsonOperations } from './core.js';

interface Secret {
  arn: string;
  name: string;
  value: string;
  versionId: string;
  createdAt: number;
}

const SUFFIX_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export class SecretsService {
  private readonly secrets = new Map<string, Secret>();

  constructor(private readonly ctx: EmuContext) {}

  /**
   * Seeds a secret; returns its ARN, which (as in AWS) ends in `-` and six random
   * characters — or the given suffix, to match ARNs already written in config files.
   */
  createSecret(name: string, value: string, opts: { suffix?: string } = {}): string {
    const suffix = opts.suffix ?? [...randomBytes(6)].map((b) => SUFFIX_CHARS[b % SUFFIX_CHARS.length]).join('');
    const arn = `arn:aws:secretsmanager:${this.ctx.region}:${this.ctx.account}:secret:${name}-${suffix}`;
    // No bundle run of the test may print it (test/helpers/fixture-secrets.ts).
    registerSecretString(value, `Secrets Manager secret ${name}`);
    this.secrets.set(name, { arn, name, value, versionId: randomUUID(), createdAt: this.ctx.now() });
    return arn;
  }

  /** By name, full ARN, or partial ARN (without the suffix), as AWS resolves SecretId. */
  private find(secretId: string | undefined): Secret {
    const s = [...this.secrets.values()].find((x) => x.name === secretId || x.arn === secretId || `${x.arn.slice(0, -7)}` === secretId);
    if (!s) throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return s;
  }

  operations(): JsonOperations {
    return {
      DescribeSecret: (input: { SecretId: string }) => {
        const s = this.find(input.SecretId);
        return {
          ARN: s.arn,
          Name: s.name,
          LastChangedDate: epochSeconds(s.createdAt),
          CreatedDate: epochSeconds(s.createdAt),
          VersionIdsToStages: { [s.versionId]: ['AWSCURRENT'] },
          Tags: [],
        };
      },
      GetSecretValue: (input: { SecretId: string }) => {
        const s = this.find(input.SecretId);
        return {
          ARN: s.arn,
          Name: s.name,
          VersionId: s.versionId,
          SecretString: s.value,
          VersionStages: ['AWSCURRENT'],
          CreatedDate: epochSeconds(s.createdAt),
        };
      },
    };
  }
}
