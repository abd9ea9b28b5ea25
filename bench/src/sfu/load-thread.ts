// Runs the RTP generator or the sink on a thread of its own, so neither competes with the other, or
// with the benchmark's own bookkeeping, for one event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { RtpLoad, RtpSink, type SyntheticSender } from './rtp-load';

type Command = { type: 'add'; sender: SyntheticSender } | { type: 'count' } | { type: 'close' };

const role = (workerData as { role: 'generator' | 'sink' }).role;
const port = parentPort!;

if (role === 'generator') {
  const load = new RtpLoad();
  load.start();
  port.on('message', (command: Command) => {
    if (command.type === 'add') load.add(command.sender);
    if (command.type === 'count') port.postMessage({ count: load.sent });
    if (command.type === 'close') {
      load.close();
      port.close();
    }
  });
} else {
  const sink = new RtpSink();
  const sinkPort = await sink.bind();
  port.postMessage({ port: sinkPort });
  port.on('message', (command: Command) => {
    if (command.type === 'count') port.postMessage({ count: sink.received });
    if (command.type === 'close') {
      sink.close();
      port.close();
    }
  });
}
