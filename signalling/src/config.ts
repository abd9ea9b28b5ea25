import { Type, type Static } from '@sinclair/typebox';
import { loadConfig, LogLevelSetting } from '@gpc/contracts';

export const SignallingConfigSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 3002 }),
    jwtSecret: Type.String({ minLength: 32 }),
    redisUrl: Type.String({ minLength: 1 }),
    /** mediasoup workers in this process: one per core is the usual choice. */
    mediaWorkers: Type.Integer({ minimum: 1, maximum: 64, default: 1 }),
    /** First WebRtcServer port; worker n listens on rtcPort + n (UDP and TCP). */
    rtcPort: Type.Integer({ minimum: 1024, maximum: 65535, default: 40000 }),
    rtcListenIp: Type.String({ default: '127.0.0.1' }),
    /** The address browsers are told to send media to (the public IP behind NAT). */
    rtcAnnouncedAddress: Type.Optional(Type.String({ minLength: 1 })),
    /** Where the web pages are served: patients' call links point there. */
    publicWebUrl: Type.String({ default: 'http://127.0.0.1:5173', pattern: '^https?://' }),
    /** How long a patient's or guest's call link lets them in. */
    callLinkTtlMinutes: Type.Integer({ minimum: 1, maximum: 24 * 60, default: 60 }),
    logLevel: LogLevelSetting,
  },
  { additionalProperties: false },
);
export type SignallingConfig = Static<typeof SignallingConfigSchema>;

export const loadSignallingConfig = (env?: Record<string, string | undefined>): SignallingConfig =>
  loadConfig(SignallingConfigSchema, 'SIGNALLING', env);
