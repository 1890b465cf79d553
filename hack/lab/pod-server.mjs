// A "pod" of the data-plane fixture: answers every TCP (HTTP) request or UDP
// datagram with its own name, so the client can tell which real server IPVS picked.
import { createSocket } from 'node:dgram';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { name: { type: 'string' }, protocol: { type: 'string' }, port: { type: 'string' } } });
const name = values.name ?? 'pod';
const port = Number(values.port ?? 8080);

if (values.protocol === 'udp') {
  const socket = createSocket('udp4');
  socket.on('message', (_message, peer) => socket.send(name, peer.port, peer.address));
  socket.bind(port, '0.0.0.0');
} else {
  createServer((request, response) => {
    response.setHeader('connection', 'close');
    response.end(name);
  }).listen(port, '0.0.0.0');
}
process.on('SIGTERM', () => process.exit(0));
