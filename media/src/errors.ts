// What media throws for a request it refuses, so callers tell refusals apart by type. Anything else
// a media call throws is a fault of ours or of mediasoup, not of the request.

/** A request named something this peer does not own: never another peer's or another call's. */
export class MediaNotFoundError extends Error {
  override name = 'MediaNotFoundError';
}

/** mediasoup refused parameters a client sent (RTP or DTLS parameters, RTP capabilities). */
export class InvalidMediaParametersError extends Error {
  override name = 'InvalidMediaParametersError';
}
