// The client side of the data-plane fixture: waits until every pod answers on
// its own address, then sends requests through the service address (one new
// connection or UDP socket each, so every request is scheduled afresh) and
// prints one JSON line: which pod answered how often, plus the IPVS table.
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { parseArgs } from 'node:util';

const READY_DEADLINE_MS = 60_000;
const REQUEST_TIMEOUT_MS = 3_000;

const { values } = parseArgs({
  options: Object.fromEntries(['protocol', 'vip', 'port', 'target-port', 'requests', 'pods', 'scheduler', 'persistence'].map((n) => [n, { type: 'string' }])),
});
const protocol = values.protocol === 'udp' ? 'udp' : 'tcp';
const pods = (values.pods ?? '').split(',').filter(Boolean).map((entry) => {
  const [name, ip] = entry.split('=');
  return { name, ip };
});

function askTcp(host, port) {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: '/', agent: false, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function askUdp(host, port) {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('timeout'));
    }, REQUEST_TIMEOUT_MS);
    socket.on('message', (message) => {
      clearTimeout(timer);
      socket.close();
      resolve(message.toString('utf8'));
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      socket.close();
      reject(error);
    });
    socket.send('who', port, host);
  });
}

const ask = protocol === 'udp' ? askUdp : askTcp;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const readyStarted = Date.now();
for (const pod of pods) {
  for (;;) {
    const answer = await ask(pod.ip, Number(values['target-port'])).catch(() => null);
    if (answer === pod.name) break;
    if (Date.now() - readyStarted > READY_DEADLINE_MS) {
      process.stderr.write(`traffic: ${pod.name} (${pod.ip}) did not answer within ${READY_DEADLINE_MS / 1000}s\n`);
      process.exit(1);
    }
    await sleep(100);
  }
}
const readyMs = Date.now() - readyStarted;

const responses = Object.fromEntries(pods.map((pod) => [pod.name, 0]));
const sequence = [];
const errors = [];
const total = Number(values.requests);
for (let i = 0; i < total; i++) {
  try {
    const answer = await ask(values.vip, Number(values.port));
    responses[answer] = (responses[answer] ?? 0) + 1;
    sequence.push(answer);
  } catch (error) {
    errors.push(String(error.message ?? error));
  }
}

const read = (file, args) => {
  try {
    return execFileSync(file, args, { encoding: 'utf8' });
  } catch (error) {
    return `error: ${error.message}`;
  }
};
process.stdout.write(
  `${JSON.stringify({
    protocol,
    vip: values.vip,
    port: Number(values.port),
    scheduler: values.scheduler,
    persistence: Number(values.persistence),
    pods,
    requests: total,
    responses,
    sequence,
    errors,
    readyMs,
    ipvsadm: read('ipvsadm', ['-Ln']),
    procIpVs: readFileSync('/proc/net/ip_vs', 'utf8'),
  })}\n`,
);
