import { createHmac } from 'node:crypto';
import type { IceServer } from '@gpc/contracts';

/** The call's TURN servers and the secret it shares with them (coturn's `static-auth-secret`). */
export interface TurnSettings {
  /** e.g. turn:turn.example:3478?transport=udp, …?transport=tcp, turns:turn.example:443?transport=tcp */
  urls: readonly string[];
  secret: string;
  /** How long a participant's credentials let them allocate a relay. */
  credentialSeconds: number;
}

/**
 * A participant's time-limited TURN credentials (the TURN REST API, as coturn's `use-auth-secret`
 * checks them): username `<unix expiry>:<participant id>`, credential base64(HMAC-SHA1(secret,
 * username)). The relay needs no per-user state, and credentials given to one participant stop
 * working at their expiry: a rejoin (every reconnect is one) gets fresh ones.
 * See: https://datatracker.ietf.org/doc/html/draft-uberti-behave-turn-rest-00#section-2.2
 */
export function iceServersFor(
  turn: TurnSettings | undefined,
  participantId: string,
  nowMs = Date.now(),
): IceServer[] {
  if (!turn) return [];
  const username = `${Math.floor(nowMs / 1000) + turn.credentialSeconds}:${participantId}`;
  const credential = createHmac('sha1', turn.secret).update(username).digest('base64');
  return [{ urls: [...turn.urls], username, credential }];
}
