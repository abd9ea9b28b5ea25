import { Type, type Static } from '@sinclair/typebox';
import { MediaPath } from './ice';

/**
 * A page's summary of its call over the last `windowSeconds` (from `getStats`), sent with
 * `call:quality` every so often: the media path of its selected ICE candidate pair, what it sent and
 * received, the loss and round trip it saw, and the video freezes it showed. Stored as call data.
 */
export const QualityReport = Type.Object(
  {
    windowSeconds: Type.Integer({ minimum: 1, maximum: 600 }),
    /** Absent until ICE has selected a pair. */
    path: Type.Optional(MediaPath),
    sendKbps: Type.Integer({ minimum: 0, maximum: 100_000 }),
    receiveKbps: Type.Integer({ minimum: 0, maximum: 100_000 }),
    /** Packets lost of those expected in the window, received media, 0-100. */
    lossPercent: Type.Number({ minimum: 0, maximum: 100 }),
    /** The selected pair's current round trip; absent when the browser has not measured one. */
    roundTripMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })),
    /** Video freezes of the received video in the window (`freezeCount`, `totalFreezesDuration`). */
    freezeCount: Type.Integer({ minimum: 0, maximum: 10_000 }),
    freezeSeconds: Type.Number({ minimum: 0, maximum: 600 }),
  },
  { additionalProperties: false },
);
export type QualityReport = Static<typeof QualityReport>;

/** The shortest time between two `call:quality` reports of one connection; faster ones are refused. */
export const qualityReportMinIntervalMs = 4000;
