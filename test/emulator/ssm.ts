/** AWS Systems Manager Parameter Store (awsJson1_1, target prefix `AmazonSSM`). */
import { registerSecretString } from '../helpers/fixture-secrets.js';
import { AwsError, epochSeconds, paginate, type EmuContext, type JsonOperations } from './core.js';

type ParameterType = 'String' | 'StringList' | 'SecureString';

interface Parameter {
  name: string;
  value: string;
  type: ParameterType;
  version: number;
  modifiedAt: number;
}

interface ParameterFilter {
  Key: string;
  Option?: string;
  Values?: string[];
}

export class SsmService {
  private readonly params = new Map<string, Parameter>();

  constructor(private readonly ctx: EmuContext) {}

  putParameter(name: string, value: string, type: ParameterType = 'String'): void {
    const prev = this.params.get(name);
    // No bundle run of the test may print a SecureString value (test/helpers/fixture-secrets.ts).
    if (type === 'SecureString') registerSecretString(value, `SSM SecureString ${name}`);
    this.params.set(name, { name, value, type, version: (prev?.version ?? 0) + 1, modifiedAt: this.ctx.now() });
  }

  private arn(name: string): string {
    return `arn:aws:ssm:${this.ctx.region}:${this.ctx.account}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
  }

  private lookup(nameOrArn: string): Parameter | undefined {
    const name = nameOrArn.startsWith('arn:') ? nameOrArn.replace(/^arn:[^:]+:ssm:[^:]*:\d*:parameter/, '') : nameOrArn;
    return this.params.get(name) ?? this.params.get(name.replace(/^\//, ''));
  }

  private view(p: Parameter, decrypt: boolean): Record<string, unknown> {
    return {
      Name: p.name,
      Type: p.type,
      Value: p.type === 'SecureString' && !decrypt ? 'AQICAHi-encrypted-by-emulator' : p.value,
      Version: p.version,
      LastModifiedDate: epochSeconds(p.modifiedAt),
      ARN: this.arn(p.name),
      DataType: 'text',
    };
  }

  operations(): JsonOperations {
    return {
      DescribeParameters: (input: {
        ParameterFilters?: ParameterFilter[];
        Filters?: { Key: string; Values: string[] }[];
        MaxResults?: number;
        NextToken?: string;
      }) => {
        const filters: ParameterFilter[] = [
          ...(input.ParameterFilters ?? []),
          ...(input.Filters ?? []).map((f) => ({ Key: f.Key, Option: f.Key === 'Name' ? 'BeginsWith' : 'Equals', Values: f.Values })),
        ];
        for (const f of filters) {
          if (!['Name', 'Type', 'KeyId', 'Path', 'Tier', 'DataType'].includes(f.Key) && !f.Key.startsWith('tag:')) {
            throw new AwsError('InvalidFilterKey', `The following filter key is not valid: ${f.Key}.`);
          }
        }
        const matches = [...this.params.values()]
          .filter((p) => filters.every((f) => matchFilter(p, f)))
          .sort((a, b) => a.name.localeCompare(b.name));
        const { page, nextToken } = paginate('DescribeParameters', matches, {
          nextToken: input.NextToken,
          maxResults: input.MaxResults,
          defaultMax: 10,
          limit: 50,
          errorCode: 'InvalidNextToken',
          paramName: 'MaxResults',
        });
        return {
          Parameters: page.map((p) => ({
            Name: p.name,
            ARN: this.arn(p.name),
            Type: p.type,
            LastModifiedDate: epochSeconds(p.modifiedAt),
            LastModifiedUser: `arn:aws:iam::${this.ctx.account}:user/emulator`,
            Version: p.version,
            Tier: 'Standard',
            Policies: [],
            DataType: 'text',
          })),
          ...(nextToken ? { NextToken: nextToken } : {}),
        };
      },
      GetParameter: (input: { Name: string; WithDecryption?: boolean }) => {
        const p = this.lookup(input.Name);
        if (!p) throw new AwsError('ParameterNotFound', `Parameter ${input.Name} not found.`);
        return { Parameter: this.view(p, !!input.WithDecryption) };
      },
      GetParameters: (input: { Names: string[]; WithDecryption?: boolean }) => {
        if (!input.Names?.length || input.Names.length > 10)
          throw new AwsError('ValidationException', 'Names must contain between 1 and 10 items.');
        const found = input.Names.map((n) => this.lookup(n)).filter((p): p is Parameter => !!p);
        return {
          Parameters: found.map((p) => this.view(p, !!input.WithDecryption)),
          InvalidParameters: input.Names.filter((n) => !this.lookup(n)),
        };
      },
      PutParameter: (input: { Name: string; Value: string; Type?: ParameterType; Overwrite?: boolean }) => {
        const prev = this.lookup(input.Name);
        if (prev && !input.Overwrite)
          throw new AwsError(
            'ParameterAlreadyExists',
            'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
          );
        this.putParameter(input.Name, input.Value, input.Type ?? prev?.type ?? 'String');
        return { Version: this.params.get(input.Name)!.version, Tier: 'Standard' };
      },
    };
  }
}

function matchFilter(p: Parameter, f: ParameterFilter): boolean {
  const values = f.Values ?? [];
  const option = f.Option ?? 'Equals';
  const field = f.Key === 'Type' ? p.type : f.Key === 'Tier' ? 'Standard' : f.Key === 'DataType' ? 'text' : p.name;
  if (f.Key === 'Path') {
    return values.some((v) => {
      const prefix = v.endsWith('/') ? v : `${v}/`;
      if (!p.name.startsWith(prefix)) return false;
      return option === 'Recursive' || !p.name.slice(prefix.length).includes('/');
    });
  }
  if (option === 'BeginsWith') return values.some((v) => field.startsWith(v));
  if (option === 'Contains') return values.some((v) => field.includes(v));
  return values.some((v) => field === v || (f.Key === 'Name' && `/${field.replace(/^\//, '')}` === `/${v.replace(/^\//, '')}`));
}
