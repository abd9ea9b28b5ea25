// The RTP generator of bench/src/sfu/rtp-load.ts on a thread of its own, paced by the wall clock
// rather than by counting timer callbacks: on a loaded machine a 2 ms interval fires late and a
// generator that counts its callbacks falls behind the nominal rate for good. Here each wake-up sends
// the 2 ms slots that are due, up to 10 at once (20 ms: a short burst, as a phone's sender makes
// after a stall); a longer stall's slots are skipped and show as the generator's shortfall.
import { parentPort } from 'node:worker_threads';
import { RtpLoad, type SyntheticSender } from '../sfu/rtp-load';

type Command = { type: 'add'; sender: SyntheticSender } | { type: 'count' } | { type: 'close' };

const slotMs = 2;
const maxCatchUp = 10;
const port = parentPort!;
const load = new RtpLoad();
// RtpLoad sends one slot per call of its (private) onSubTick; its own timer is never started here
const sendSlot = (load as unknown as { onSubTick(): void }).onSubTick.bind(load);
const start = performance.now();
let slotsDone = 0;
const timer = setInterval(() => {
  const due = Math.floor((performance.now() - start) / slotMs);
  if (due - slotsDone > maxCatchUp) slotsDone = due - maxCatchUp;
  for (; slotsDone < due; slotsDone++) sendSlot();
}, slotMs);

port.on('message', (command: Command) => {
  if (command.type === 'add') load.add(command.sender);
  if (command.type === 'count') port.postMessage({ count: load.sent });
  if (command.type === 'close') {
    clearInterval(timer);
    load.close();
    port.close();
  }
});
