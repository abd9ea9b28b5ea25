/**
 * RTP parameters for one Opus stream, as a browser sends them with `produce`: what tests feed a
 * producer when no browser is at hand. Each producer of a test takes its own SSRC.
 */
export function opusRtpParameters(ssrc: number, cname: string) {
  return {
    codecs: [
      {
        mimeType: 'audio/opus',
        payloadType: 111,
        clockRate: 48000,
        channels: 2,
        parameters: {},
        rtcpFeedback: [],
      },
    ],
    encodings: [{ ssrc }],
    rtcp: { cname },
  };
}
