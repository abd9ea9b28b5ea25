// A call participant in a process of its own, so a test can freeze it (SIGSTOP) the way a phone that
// loses its network goes silent: no FIN, no more answers to the server's pings.
import { io } from 'socket.io-client';

const [url, token] = process.argv.slice(2);
const socket = io(url, { auth: { token }, transports: ['websocket'], reconnection: false });
socket.on('connect', () => {
  void socket.emitWithAck('call:join', {}).then(() => process.stdout.write('joined\n'));
});
socket.on('connect_error', (error) => {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
});
