import { createSocket, type Socket } from 'node:dgram';

/** One synthetic participant's media: Opus at 50 packets/s and ~600 kbps VP8 at 25 frames/s. */
export interface SyntheticSender {
  audioSsrc: number;
  videoSsrc: number;
  target: { ip: string; port: number };
}

const audioPayloadType = 100;
const videoPayloadType = 101;
const videoFrameBytes = 3000; // 600 kbps / 8 / 25 fps
const videoPacketBytes = 1000;

function rtpHeader(
  payloadType: number,
  sequence: number,
  timestamp: number,
  ssrc: number,
  marker: boolean,
): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = (marker ? 0x80 : 0) | payloadType;
  header.writeUInt16BE(sequence & 0xffff, 2);
  header.writeUInt32BE(timestamp >>> 0, 4);
  header.writeUInt32BE(ssrc >>> 0, 8);
  return header;
}

/**
 * A VP8 payload as browsers send it: an extended descriptor (X) with a 15-bit picture id (I),
 * TL0PICIDX (L) and temporal index (T), then the VP8 frame tag, whose bit 0 is clear on key frames.
 */
function vp8Payload(bytes: number, frameStart: boolean, keyFrame: boolean, pictureId: number): Buffer {
  const payload = Buffer.alloc(bytes, 0x55);
  payload[0] = frameStart ? 0x90 : 0x80;
  payload[1] = 0xe0;
  payload[2] = 0x80 | ((pictureId >> 8) & 0x7f);
  payload[3] = pictureId & 0xff;
  payload[4] = pictureId & 0xff;
  payload[5] = 0x20;
  if (frameStart) {
    payload[6] = keyFrame ? 0x00 : 0x01;
    if (keyFrame) payload.set([0x00, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01], 7);
  }
  return payload;
}

export const syntheticCodecs = {
  audio: {
    codecs: [
      {
        mimeType: 'audio/opus',
        payloadType: audioPayloadType,
        clockRate: 48000,
        channels: 2,
        parameters: {},
        rtcpFeedback: [],
      },
    ],
  },
  video: {
    codecs: [
      {
        mimeType: 'video/VP8',
        payloadType: videoPayloadType,
        clockRate: 90000,
        parameters: {},
        rtcpFeedback: [],
      },
    ],
  },
};

/**
 * Sends every sender's RTP from one socket, paced by a 20 ms tick: audio every tick, a video frame
 * every other tick, a key frame every second. Counts what it sent.
 */
export class RtpLoad {
  private readonly socket: Socket = createSocket({ type: 'udp4', sendBufferSize: 8 * 1024 * 1024 });
  private timer: NodeJS.Timeout | undefined;
  private tick = 0;
  private readonly senders: (SyntheticSender & { audioSeq: number; videoSeq: number })[] = [];
  sent = 0;

  add(sender: SyntheticSender): void {
    this.senders.push({ ...sender, audioSeq: 0, videoSeq: 0 });
  }

  /** Each 20 ms period is cut into slots, every sender in one slot, so packets do not all leave at once. */
  private static readonly slots = 10;
  private subTick = 0;

  start(): void {
    this.timer = setInterval(() => this.onSubTick(), 20 / RtpLoad.slots);
  }

  private onSubTick(): void {
    const slot = this.subTick % RtpLoad.slots;
    if (slot === 0) this.tick++;
    this.subTick++;
    const videoTick = this.tick % 2 === 0;
    const frame = this.tick / 2;
    const keyFrame = videoTick && frame % 25 === 0;
    for (let index = slot; index < this.senders.length; index += RtpLoad.slots) {
      const sender = this.senders[index]!;
      const audio = Buffer.concat([
        rtpHeader(audioPayloadType, sender.audioSeq++, this.tick * 960, sender.audioSsrc, false),
        Buffer.alloc(120, 0x11),
      ]);
      this.socket.send(audio, sender.target.port, sender.target.ip);
      this.sent++;
      if (!videoTick) continue;
      const packets = Math.ceil(videoFrameBytes / videoPacketBytes);
      for (let index = 0; index < packets; index++) {
        const header = rtpHeader(
          videoPayloadType,
          sender.videoSeq++,
          frame * 3600,
          sender.videoSsrc,
          index === packets - 1,
        );
        this.socket.send(
          Buffer.concat([header, vp8Payload(videoPacketBytes, index === 0, keyFrame, frame & 0x7fff)]),
          sender.target.port,
          sender.target.ip,
        );
        this.sent++;
      }
    }
  }

  /** Packets per second one sender produces. */
  static readonly packetsPerSecondPerSender = 50 + 25 * Math.ceil(videoFrameBytes / videoPacketBytes);

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.socket.close();
  }
}

/** Counts RTP packets (not RTCP) arriving at one UDP port. */
export class RtpSink {
  readonly socket: Socket = createSocket({ type: 'udp4', recvBufferSize: 8 * 1024 * 1024 });
  received = 0;

  async bind(): Promise<number> {
    this.socket.on('message', (message) => {
      const secondByte = message[1] ?? 0;
      // RTCP packet types are 192-223 in this byte; our RTP payload types (with marker) are not
      if (secondByte < 192 || secondByte > 223) this.received++;
    });
    await new Promise<void>((resolve) => this.socket.bind(0, '127.0.0.1', resolve));
    return this.socket.address().port;
  }

  close(): void {
    this.socket.close();
  }
}
