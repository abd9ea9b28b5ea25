import { Type, type Static } from '@sinclair/typebox';
import { loadConfig } from '@gpc/contracts';

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
  },
  { additionalProperties: false },
);
export type WebConfig = Static<typeof WebConfigSchema>;

/** Reads `WEB_HOST`, `WEB_PORT`, `WEB_TRIAGE_URL` and `WEB_SIGNALLING_URL`; an unknown `WEB_*` fails. */
export const loadWebConfig = (env?: Record<string, string | undefined>): WebConfig =>
  loadConfig(WebConfigSchema, 'WEB', env);
