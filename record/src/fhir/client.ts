import { createHash } from 'node:crypto';
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import type { FhirAuth } from '@gpc/contracts';
import {
  checkOutboundUrl,
  describeRefusal,
  findRefusal,
  guardedDispatcher,
  networkErrorCode,
  type OutboundPolicy,
} from '@gpc/outbound';
import { FhirSendError } from '../filing/errors';

// kept importable from here, where it was first defined
export { FhirSendError };

export interface FiledResult {
  /** `Type/id/_history/n` for each entry, in bundle order. */
  locations: string[];
  /** True when every entry already existed: an earlier attempt had filed it. */
  alreadyFiled: boolean;
}

/** Where one practice's bundles go, and how it authenticates there. */
export interface FhirTarget {
  /** The practice the bundle is filed for: its tokens are its own, never another practice's. */
  practiceId: string;
  baseUrl: string;
  auth: FhirAuth;
}

export interface FhirClientOptions {
  timeoutMs: number;
  /**
   * Where practice-configured endpoints may be: the deployment's outbound policy (https to public
   * addresses; plain http to loopback only in development and tests). Every connection is checked.
   */
  outbound: OutboundPolicy;
  fetch?: typeof fetch;
  /** The clock, for token expiry. */
  now?: () => number;
}

/** How the places are named in what staff read. */
const GP_SYSTEM = "the GP system's address";
const TOKEN_ENDPOINT = "the GP system's token endpoint";

/** The text of an OperationOutcome, as a person fixing the data needs it. */
export function outcomeText(outcome: OperationOutcome): string {
  return outcome.issue
    .map((issue) => {
      const text = issue.details?.text ?? issue.diagnostics ?? issue.code;
      return issue.expression?.length ? `${text} (${issue.expression.join(', ')})` : text;
    })
    .join('; ');
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds from now. */
export function parseRetryAfter(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Posts transaction Bundles to practices' FHIR endpoints. */
export class FhirClient {
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly dispatcher: ReturnType<typeof guardedDispatcher>;
  /** Client-credentials tokens by `tokenCacheKey`: one practice's token never serves another. */
  private readonly tokens = new Map<string, { token: string; expiresAt: number }>();

  constructor(private readonly options: FhirClientOptions) {
    this.fetch = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
    this.dispatcher = guardedDispatcher(options.outbound, { timeoutMs: options.timeoutMs });
  }

  /** Posts one transaction Bundle; `FhirSendError` says why it was not filed and whether a retry can help. */
  async postTransaction(target: FhirTarget, bundle: Bundle): Promise<FiledResult> {
    const response = await this.send(target, bundle);
    const body: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      if (response.status === 401 && target.auth.type === 'client_credentials') {
        this.tokens.delete(tokenCacheKey(target.practiceId, target.auth));
      }
      throw refusal(response, body, this.now());
    }
    return filedResult(bundle, response.status, body);
  }

  /** One request to a practice-configured place, through the outbound guard, redirects not followed. */
  private async guardedFetch(place: string, url: string, init: RequestInit): Promise<Response> {
    try {
      checkOutboundUrl(url, this.options.outbound);
      return await this.fetch(url, {
        ...init,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs),
        dispatcher: this.dispatcher,
      } as RequestInit);
    } catch (error) {
      const refused = findRefusal(error);
      // a refused address will be refused on every retry: the practice must change its settings
      if (refused) throw new FhirSendError(describeRefusal(place, refused), false);
      if ((error as Error).name === 'TimeoutError') {
        throw new FhirSendError(`no answer within ${this.options.timeoutMs} ms`, true);
      }
      const code = networkErrorCode(error);
      const what = place === GP_SYSTEM ? 'the GP system' : 'the token endpoint';
      throw new FhirSendError(`could not reach ${what}${code ? ` (${code})` : ''}`, true);
    }
  }

  private async send({ practiceId, baseUrl, auth }: FhirTarget, bundle: Bundle): Promise<Response> {
    const headers: Record<string, string> = {
      'content-type': 'application/fhir+json',
      accept: 'application/fhir+json',
    };
    const token = await this.accessToken(practiceId, auth);
    if (token) headers.authorization = `Bearer ${token}`;
    return this.guardedFetch(GP_SYSTEM, baseUrl.replace(/\/+$/, ''), {
      method: 'POST',
      headers,
      body: JSON.stringify(bundle),
    });
  }

  /** Bearer tokens as configured; client-credentials tokens fetched and kept until just before they expire. */
  private async accessToken(practiceId: string, auth: FhirAuth): Promise<string | undefined> {
    switch (auth.type) {
      case 'none':
        return undefined;
      case 'bearer':
        return auth.token;
      case 'client_credentials': {
        const key = tokenCacheKey(practiceId, auth);
        const cached = this.tokens.get(key);
        if (cached && cached.expiresAt > this.now()) return cached.token;
        const form = new URLSearchParams({ grant_type: 'client_credentials' });
        if (auth.scope) form.set('scope', auth.scope);
        const response = await this.guardedFetch(TOKEN_ENDPOINT, auth.tokenUrl, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: `Basic ${Buffer.from(`${encodeURIComponent(auth.clientId)}:${encodeURIComponent(auth.clientSecret)}`).toString('base64')}`,
          },
          body: form,
        });
        const body = (await response.json().catch(() => ({}))) as {
          access_token?: unknown;
          expires_in?: unknown;
        };
        if (!response.ok || typeof body.access_token !== 'string') {
          throw new FhirSendError(
            response.status >= 300 && response.status < 400
              ? `the token endpoint answered with a redirect (${response.status}), which is not followed`
              : `the token endpoint refused the client credentials (HTTP ${response.status})`,
            response.status >= 500 || response.status === 429,
            response.status,
          );
        }
        const lifetimeS = typeof body.expires_in === 'number' ? body.expires_in : 300;
        // renewed 30 s early so a token never expires in flight; expired ones (a changed secret's) dropped
        for (const [other, { expiresAt }] of this.tokens)
          if (expiresAt <= this.now()) this.tokens.delete(other);
        this.tokens.set(key, {
          token: body.access_token,
          expiresAt: this.now() + Math.max(0, lifetimeS - 30) * 1000,
        });
        return body.access_token;
      }
    }
  }
}

/**
 * A cached token's key: the practice, the token URL, the client id, and a fingerprint of the
 * secret and scope. Another practice naming the same token URL (with its own or made-up
 * credentials) gets a token of its own or a refusal, never this one; a changed secret fetches anew.
 */
function tokenCacheKey(practiceId: string, auth: Extract<FhirAuth, { type: 'client_credentials' }>): string {
  return createHash('sha256')
    .update(JSON.stringify([practiceId, auth.tokenUrl, auth.clientId, auth.clientSecret, auth.scope ?? '']))
    .digest('base64url');
}

/** FHIR refusals whose OperationOutcome says what to fix in the data we sent: shown to staff. */
const dataRefusals = new Set([400, 404, 409, 412, 422]);
const maxOutcomeLength = 500;

/**
 * A non-2xx answer, in words for staff. The GP system's own words (its OperationOutcome) only when
 * it refuses our data; otherwise only the status: a far side's error page, or what an internal
 * service would answer, never reaches staff.
 */
function refusal(response: Response, body: unknown, now: number): FhirSendError {
  const { status } = response;
  const retryable = status >= 500 || status === 408 || status === 429;
  let text: string;
  if (status >= 300 && status < 400) {
    text = `the GP system answered with a redirect (${status}), which is not followed`;
  } else if (dataRefusals.has(status) && isOutcome(body) && outcomeText(body)) {
    text = `${status}: ${printable(outcomeText(body))}`;
  } else {
    text = `the GP system answered ${status}`;
  }
  return new FhirSendError(
    text,
    retryable,
    status,
    parseRetryAfter(response.headers.get('retry-after'), now),
  );
}

/** One line of plain text, cut to a length staff can read. */
function printable(text: string): string {
  const line = [...text]
    .map((char) => (char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f ? ' ' : char))
    .join('')
    .trim();
  return line.length > maxOutcomeLength ? `${line.slice(0, maxOutcomeLength - 1)}…` : line;
}

/** A 2xx answer: filed only when it is a transaction-response confirming every entry. */
function filedResult(bundle: Bundle, status: number, body: unknown): FiledResult {
  if (!isBundle(body) || body.type !== 'transaction-response') {
    throw new FhirSendError('the GP system answered without a transaction-response Bundle', false, status);
  }
  const statuses = (body.entry ?? []).map((e) => e.response?.status ?? '');
  if (statuses.length !== (bundle.entry ?? []).length || statuses.some((s) => !/^2\d\d/.test(s))) {
    throw new FhirSendError(
      `the GP system's answer does not confirm every entry (${statuses.join(', ')})`,
      false,
    );
  }
  return {
    locations: (body.entry ?? []).map((e) => e.response?.location ?? ''),
    alreadyFiled: statuses.every((s) => s.startsWith('200')),
  };
}

const isOutcome = (value: unknown): value is OperationOutcome =>
  typeof value === 'object' &&
  value !== null &&
  (value as { resourceType?: unknown }).resourceType === 'OperationOutcome' &&
  Array.isArray((value as { issue?: unknown }).issue);

const isBundle = (value: unknown): value is Bundle =>
  typeof value === 'object' &&
  value !== null &&
  (value as { resourceType?: unknown }).resourceType === 'Bundle';
