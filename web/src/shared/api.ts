/**
 * The pages' one way to call the triage API: JSON in and out under `/api`, a bearer token when the
 * page has one, and every refusal as an `ApiError` carrying the API's `{code, message}`. Bodies are
 * typed by the caller with the REST contracts' types (`import type` from `@gpc/contracts`, so no
 * schema code reaches a page's bundle). Knows nothing of the DOM.
 */

import type { Static } from '@sinclair/typebox';
import type { ErrorBody } from '@gpc/contracts';

/** A refusal from the API: its HTTP status, its stable code (contracts/src/errors.ts) and its words. */
export class ApiError extends Error implements Static<typeof ErrorBody> {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The whole refusal body, for the few refusals that carry more than words (typed by their route's contract). */
    readonly body?: unknown,
  ) {
    super(message);
  }
}

export interface ApiClientOptions {
  /** Where the API is on this origin: `/api` (triage) unless said otherwise. */
  base?: string;
  /** The current bearer token, if the page has signed in or unlocked something. */
  token?: () => string | undefined;
  /** The words for a refusal that came without the API's own (e.g. a proxy's error page). */
  unexplained?: (status: number) => string;
}

export type ApiMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Reads `{code, message}` from a refusal's body, if it has them. */
async function refusal(response: Response, unexplained: (status: number) => string): Promise<ApiError> {
  const body = (await response.json().catch(() => undefined)) as
    Partial<Static<typeof ErrorBody>> | undefined;
  const code = typeof body?.code === 'string' ? body.code : 'unknown';
  const message = typeof body?.message === 'string' ? body.message : unexplained(response.status);
  return new ApiError(response.status, code, message, body);
}

export class ApiClient {
  constructor(private readonly options: ApiClientOptions = {}) {}

  get<Result>(path: string): Promise<Result> {
    return this.request<Result>('GET', path);
  }

  /** Sends `body` as JSON (triage refuses an empty body sent as JSON, so there always is one). */
  send<Body, Result = unknown>(method: Exclude<ApiMethod, 'GET'>, path: string, body: Body): Promise<Result> {
    return this.request<Result>(method, path, body);
  }

  /** A file the API answers with (e.g. a CSV report), whole. */
  async file(path: string): Promise<Blob> {
    return (await this.fetch('GET', path)).blob();
  }

  private async request<Result>(method: ApiMethod, path: string, body?: unknown): Promise<Result> {
    const response = await this.fetch(method, path, body);
    // an answer with no body (204) is undefined
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as Result;
  }

  private async fetch(method: ApiMethod, path: string, body?: unknown): Promise<Response> {
    const token = this.options.token?.();
    const response = await fetch(`${this.options.base ?? '/api'}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) {
      throw await refusal(response, this.options.unexplained ?? ((status) => `request failed (${status})`));
    }
    return response;
  }
}

/** The words of an error for a person: the API's own when it gave them, else `fallback`. */
export const errorText = (error: unknown, fallback: string): string =>
  error instanceof Error && error.message ? error.message : fallback;
