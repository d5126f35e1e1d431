/**
 * Gate URLs and their secrets: the printable form of a URL (query values and passwords as ***), the
 * values masked with the runner, and `user:pass@` credentials sent as HTTP Basic authentication.
 */
import type { Reporter } from '../../lib/report.js';

/** The URL as it may be printed: every query value and any password replaced by ***. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    const user = u.username ? `${u.username}${u.password ? ':***' : ''}@` : '';
    const keys = [...u.searchParams.keys()];
    const query = keys.length ? `?${keys.map((k) => `${encodeURIComponent(k)}=***`).join('&')}` : '';
    return `${u.protocol}//${user}${u.host}${u.pathname}${query}`;
  } catch {
    return '***';
  }
}

/** Values that must never reach the log: query values (tokens travel there) and passwords. */
function urlSecrets(raw: string): string[] {
  try {
    const u = new URL(raw);
    const out = [...u.searchParams.values(), decodeURIComponent(u.password)].filter((v) => v.length >= 3);
    // The Basic credentials sent in the Authorization header, should anything echo the header.
    if (u.password) out.push(basicAuth(u).slice('Basic '.length));
    return [...new Set(out)];
  } catch {
    return [];
  }
}

/** Masks every secret of every URL with the runner (add-mask) and returns a redactor for free text. */
export function maskUrls(urls: string[], report: Pick<Reporter, 'setSecret'>): (text: string) => string {
  const secrets = [...new Set(urls.flatMap(urlSecrets))].sort((a, b) => b.length - a.length);
  for (const s of secrets) {
    report.setSecret(s);
    if (encodeURIComponent(s) !== s) report.setSecret(encodeURIComponent(s));
  }
  return (text) => secrets.reduce((t, s) => t.split(s).join('***').split(encodeURIComponent(s)).join('***'), text);
}

/**
 * The URL fetch is given and the headers credentials become: fetch refuses a URL with `user:pass@`
 * (RFC 9110 deprecates userinfo in http URLs), so they travel as HTTP Basic authentication instead,
 * the way curl sends them. The header value is masked (maskUrls).
 */
export function requestOf(raw: string): { url: string; authorization?: string } {
  const u = new URL(raw);
  if (!u.username && !u.password) return { url: raw };
  const authorization = basicAuth(u);
  u.username = '';
  u.password = '';
  return { url: u.toString(), authorization };
}

const basicAuth = (u: URL): string =>
  `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`, 'utf8').toString('base64')}`;
