/**
 * AWS STS. @aws-sdk/client-sts uses the awsQuery protocol: a form-encoded POST
 * (`Action=GetCallerIdentity&Version=2011-06-15`) answered with XML.
 */
import { AwsError, escapeXml, type EmuContext } from './core.js';

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

export function stsQuery(ctx: EmuContext, params: URLSearchParams, requestId: string): string {
  const action = params.get('Action');
  if (action !== 'GetCallerIdentity')
    throw new AwsError('InvalidAction', `Could not find operation ${action} for version ${params.get('Version')}`);
  const fields = {
    Arn: `arn:aws:iam::${ctx.account}:user/emulator`,
    UserId: 'AIDAEMULATOREXAMPLE',
    Account: ctx.account,
  };
  const body = Object.entries(fields)
    .map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`)
    .join('');
  return `<GetCallerIdentityResponse xmlns="${NS}"><GetCallerIdentityResult>${body}</GetCallerIdentityResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`;
}

/** The awsQuery error body; the SDK reads `Error/Code`. */
export function queryError(code: string, message: string, requestId: string, status: number): string {
  const type = status >= 500 ? 'Receiver' : 'Sender';
  return `<ErrorResponse xmlns="${NS}"><Error><Type>${type}</Type><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
}
