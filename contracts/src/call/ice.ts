import { Type, type Static } from '@sinclair/typebox';
import { OneOf } from '../schema';

/**
 * TURN for the call's media: the ICE servers signalling hands each participant in the join answer,
 * with time-limited credentials of the TURN REST API (coturn's `use-auth-secret`), and which path
 * the media then took.
 * See: https://datatracker.ietf.org/doc/html/draft-uberti-behave-turn-rest-00
 */

/** One ICE server as RTCPeerConnection takes it (`RTCIceServer`). */
export const IceServer = Type.Object(
  {
    urls: Type.Array(Type.String({ pattern: '^turns?:' }), { minItems: 1 }),
    /** `<unix expiry>:<participant id>`: coturn refuses it after the expiry. */
    username: Type.String({ minLength: 1 }),
    /** base64(HMAC-SHA1(shared secret, username)). */
    credential: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);
export type IceServer = Static<typeof IceServer>;

/**
 * Which path a call's media took, from the selected ICE candidate pair: straight to the media server
 * over UDP or TCP, or through the TURN relay and how the browser reached it.
 */
export const MediaPath = OneOf(['udp', 'tcp', 'relay-udp', 'relay-tcp', 'relay-tls']);
export type MediaPath = Static<typeof MediaPath>;

/**
 * How a page may force its media through the relay (`?relay=` on the call pages): any of the relay's
 * transports, or only one. For support ("does it work through TURN over TLS?") and tests; a page
 * without it tries direct paths first, as browsers do.
 */
export const ForcedRelay = OneOf(['any', 'udp', 'tcp', 'tls']);
export type ForcedRelay = Static<typeof ForcedRelay>;
