import { isWebsiteOrigin } from './security-headers';

/** How the static server learns a practice's own website origins (for the form page's frame-ancestors). */
export interface EmbeddingOriginsOptions {
  /** triage's base URL (its routes live at its root). */
  triageUrl: string;
  /** How long an answer is kept; a change in the practice's settings reaches the form within this. */
  ttlMs?: number;
  /** How long a failed look-up is kept (the form then opens in no frame). */
  failureTtlMs?: number;
  /** Practices remembered at once; the oldest goes first. */
  maxEntries?: number;
  timeoutMs?: number;
  now?: () => number;
}

const odsCode = /^[A-Za-z0-9]{3,10}$/;

/**
 * The practice's website origins from triage's public `GET /practices/:ods/embedding`, cached
 * briefly. Fails closed: an unknown practice, a malformed answer or triage not answering gives no
 * origins, so the form is framed by nobody rather than by anybody.
 */
export class EmbeddingOrigins {
  private readonly cache = new Map<string, { expires: number; origins: Promise<string[]> }>();
  private readonly ttlMs: number;
  private readonly failureTtlMs: number;
  private readonly maxEntries: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(private readonly options: EmbeddingOriginsOptions) {
    this.ttlMs = options.ttlMs ?? 30_000;
    this.failureTtlMs = options.failureTtlMs ?? 5_000;
    this.maxEntries = options.maxEntries ?? 1_000;
    this.timeoutMs = options.timeoutMs ?? 2_000;
    this.now = options.now ?? Date.now;
  }

  /** The origins for the practice with this ODS code; [] for anything else. */
  async of(ods: string | null | undefined): Promise<string[]> {
    if (!ods || !odsCode.test(ods)) return [];
    const key = ods.toUpperCase();
    const cached = this.cache.get(key);
    if (cached && cached.expires > this.now()) return cached.origins;
    this.cache.delete(key);
    const entry = { expires: this.now() + this.ttlMs, origins: this.lookUp(key) };
    entry.origins = entry.origins.then(
      (origins) => origins,
      () => {
        entry.expires = this.now() + this.failureTtlMs;
        return [];
      },
    );
    this.cache.set(key, entry);
    if (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    return entry.origins;
  }

  private async lookUp(ods: string): Promise<string[]> {
    const url = new URL(`practices/${encodeURIComponent(ods)}/embedding`, withSlash(this.options.triageUrl));
    const response = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
    if (response.status === 404) return [];
    if (!response.ok) throw new Error(`triage answered ${response.status} for ${url.pathname}`);
    const body = (await response.json()) as { websiteOrigins?: unknown };
    if (!Array.isArray(body.websiteOrigins)) throw new Error('triage answered without websiteOrigins');
    return body.websiteOrigins.filter(isWebsiteOrigin);
  }
}

const withSlash = (url: string) => (url.endsWith('/') ? url : `${url}/`);
