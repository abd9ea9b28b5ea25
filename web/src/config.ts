import { Type, type Static } from '@sinclair/typebox';
import { loadConfig } from '@gpc/contracts';
import { MetricsConfigFields } from '@gpc/contracts/metrics';

const httpUrl = { pattern: '^https?://[^/\\s]+' };

export const WebConfigSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, default: '127.0.0.1' }),
    /** 0 picks a free port (tests); the service itself runs on a fixed one. */
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 5173 }),
    /** Where `/api` is proxied to. */
    triageUrl: Type.String({ ...httpUrl, default: 'http://127.0.0.1:3001' }),
    /** Where `/socket.io` (including its WebSocket upgrade) is proxied to. */
    signallingUrl: Type.String({ ...httpUrl, default: 'http://127.0.0.1:3002' }),
    /**
     * WEB_REDIS_URL: where call nodes announce themselves; with it, `/call-node/<id>/socket.io` is
     * routed to the node announced under that id (calls placed across nodes). Without it, none is.
     */
    redisUrl: Type.Optional(Type.String({ pattern: '^rediss?://' })),
    /** The production server's own address, as patients and staff open it; https turns on HSTS. */
    publicUrl: Type.String({ ...httpUrl, default: 'http://127.0.0.1:5173' }),
    /** Where presigned uploads go (the production server's CSP lets pages send files there). */
    storageUrl: Type.Optional(Type.String(httpUrl)),
    /** The build the production server serves (`vite build` output); web/dist by default. */
    distDir: Type.Optional(Type.String({ minLength: 1 })),
    /** WEB_METRICS_TOKEN: the bearer token of Prometheus scrapes of the production server's `/metrics`. */
    ...MetricsConfigFields,
  },
  { additionalProperties: false },
);
export type WebConfig = Static<typeof WebConfigSchema>;

/**
 * Reads `WEB_HOST`, `WEB_PORT`, `WEB_TRIAGE_URL`, `WEB_SIGNALLING_URL`, `WEB_REDIS_URL` and, for the production server
 * (src/static-server.ts), `WEB_PUBLIC_URL`, `WEB_STORAGE_URL` and `WEB_DIST_DIR`; an unknown `WEB_*` fails.
 */
export const loadWebConfig = (env?: Record<string, string | undefined>): WebConfig =>
  loadConfig(WebConfigSchema, 'WEB', env);
