import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import type { FhirAuth } from '@gpc/contracts';
import { FhirSendError } from '../filing/errors';

// kept importable from here, where it was first defined
export { FhirSendError };

export interface FiledResult {
  /** `Type/id/_history/n` for each entry, in bundle order. */
  locations: string[];
  /** True when every entry already existed: an earlier attempt had filed it. */
  alreadyFiled: boolean;
}

export interface FhirClientOptions {
  timeoutMs: number;
  fetch?: typeof fetch;
  /** The clock, for token expiry. */
  now?: () => number;
}

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
  private readonly tokens = new Map<string, { token: string; expiresAt: number }>();

  constructor(private readonly options: FhirClientOptions) {
    this.fetch = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
  }

  /** Posts one transaction Bundle; `FhirSendError` says why it was not filed and whether a retry can help. */
  async postTransaction(baseUrl: string, auth: FhirAuth, bundle: Bundle): Promise<FiledResult> {
    const response = await this.send(baseUrl, auth, bundle);
    const body: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      if (response.status === 401 && auth.type === 'client_credentials') this.tokens.delete(auth.tokenUrl);
      throw this.refusal(response, body);
    }
    return filedResult(bundle, response.status, body);
  }

  private async send(baseUrl: string, auth: FhirAuth, bundle: Bundle): Promise<Response> {
    const headers: Record<string, string> = {
      'content-type': 'application/fhir+json',
      accept: 'application/fhir+json',
    };
    const token = await this.accessToken(auth);
    if (token) headers.authorization = `Bearer ${token}`;
    try {
      return await this.fetch(baseUrl.replace(/\/+$/, ''), {
        method: 'POST',
        headers,
        body: JSON.stringify(bundle),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      const reason =
        (error as Error).name === 'TimeoutError'
          ? `no answer within ${this.options.timeoutMs} ms`
          : `could not reach the GP system (${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message})`;
      throw new FhirSendError(reason, true);
    }
  }

  /** A non-2xx answer, in the GP system's own words when it gave an OperationOutcome. */
  private refusal(response: Response, body: unknown): FhirSendError {
    const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
    const text =
      isOutcome(body) && outcomeText(body)
        ? outcomeText(body)
        : `HTTP ${response.status} ${response.statusText}`;
    return new FhirSendError(
      `${response.status}: ${text}`,
      retryable,
      response.status,
      parseRetryAfter(response.headers.get('retry-after'), this.now()),
    );
  }

  /** Bearer tokens as configured; client-credentials tokens fetched and kept until just before they expire. */
  private async accessToken(auth: FhirAuth): Promise<string | undefined> {
    switch (auth.type) {
      case 'none':
        return undefined;
      case 'bearer':
        return auth.token;
      case 'client_credentials': {
        const cached = this.tokens.get(auth.tokenUrl);
        if (cached && cached.expiresAt > this.now()) return cached.token;
        const form = new URLSearchParams({ grant_type: 'client_credentials' });
        if (auth.scope) form.set('scope', auth.scope);
        let response: Response;
        try {
          response = await this.fetch(auth.tokenUrl, {
            method: 'POST',
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              authorization: `Basic ${Buffer.from(`${encodeURIComponent(auth.clientId)}:${encodeURIComponent(auth.clientSecret)}`).toString('base64')}`,
            },
            body: form,
            signal: AbortSignal.timeout(this.options.timeoutMs),
          });
        } catch (error) {
          throw new FhirSendError(`could not reach the token endpoint (${(error as Error).message})`, true);
        }
        const body = (await response.json().catch(() => ({}))) as {
          access_token?: unknown;
          expires_in?: unknown;
        };
        if (!response.ok || typeof body.access_token !== 'string') {
          throw new FhirSendError(
            `the token endpoint refused the client credentials (HTTP ${response.status})`,
            response.status >= 500 || response.status === 429,
            response.status,
          );
        }
        const lifetimeS = typeof body.expires_in === 'number' ? body.expires_in : 300;
        // renewed 30 s early so a token never expires in flight
        this.tokens.set(auth.tokenUrl, {
          token: body.access_token,
          expiresAt: this.now() + Math.max(0, lifetimeS - 30) * 1000,
        });
        return body.access_token;
      }
    }
  }
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
