// The ICE relay's thread (see ice-relay.ts): two UDP sockets per pair, one facing the call node's
// transport and one facing the bench's, each datagram that is not STUN copied across.
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { bindingRequest, type RelayPair } from './ice-relay';

type Command =
  | { type: 'add'; id: number; pair: RelayPair }
  | { type: 'counts'; id: number }
  | { type: 'close'; id: number };

const port = parentPort!;
const media = new Set((workerData as { mediaPayloadTypes: number[] }).mediaPayloadTypes);
/** mediasoup's bandwidth probation stream. */
const probationSsrc = 1234;
const counts = { toNodes: 0, fromNodes: 0 };
const sockets: Socket[] = [];
const checks: NodeJS.Timeout[] = [];

/** RTP (RFC 7983: first byte 128-191, not RTCP's 192-223 second byte) of a media payload type. */
function isMedia(packet: Buffer): boolean {
  const first = packet[0] ?? 0;
  if (first < 128 || first > 191 || packet.length < 12) return false;
  const second = packet[1] ?? 0;
  if (second >= 192 && second <= 223) return false;
  return media.has(second & 0x7f) && packet.readUInt32BE(8) !== probationSsrc;
}

function socket(): Promise<Socket> {
  const each = createSocket({ type: 'udp4', recvBufferSize: 1 << 20, sendBufferSize: 1 << 20 });
  sockets.push(each);
  return new Promise((resolve) => each.bind(0, '127.0.0.1', () => resolve(each)));
}

async function add(pair: RelayPair): Promise<void> {
  const [toNode, toBench] = await Promise.all([socket(), socket()]);
  const ourUfrag = randomBytes(6).toString('hex');
  const countFromNode = pair.direction === 'recv';
  toNode.on('message', (packet) => {
    if ((packet[0] ?? 0) < 4) return; // STUN: the node's answers to our checks
    if (countFromNode && isMedia(packet)) counts.fromNodes++;
    toBench.send(packet, pair.bench.port, pair.bench.ip);
  });
  toBench.on('message', (packet) => {
    if ((packet[0] ?? 0) < 4) return;
    if (!countFromNode && isMedia(packet)) counts.toNodes++;
    toNode.send(packet, pair.node.port, pair.node.ip);
  });
  const check = () => {
    toNode.send(bindingRequest(pair.node, ourUfrag), pair.node.port, pair.node.ip);
    toBench.send(bindingRequest(pair.bench, ourUfrag), pair.bench.port, pair.bench.ip);
  };
  check();
  checks.push(setInterval(check, 2000));
}

port.on('message', (command: Command) => {
  if (command.type === 'add') void add(command.pair).then(() => port.postMessage({ id: command.id }));
  if (command.type === 'counts') port.postMessage({ id: command.id, value: { ...counts } });
  if (command.type === 'close') {
    for (const timer of checks) clearInterval(timer);
    for (const each of sockets) each.close();
    port.close();
  }
});
