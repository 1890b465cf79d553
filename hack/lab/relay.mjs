#!/usr/bin/env node
// One connection of a lab VM's forward (src/lab/qemu.ts, guestfwd cmd:): qemu starts this
// program per guest connection with the connection as stdin and stdout, and it relays the
// bytes to HOST:PORT on this machine. It prints nothing: stderr is the connection too.
// Usage: node hack/lab/relay.mjs HOST PORT
import { connect } from 'node:net';

const [host, port] = process.argv.slice(2);
const upstream = connect(Number(port), host);
upstream.on('error', () => process.exit(1));
upstream.on('close', () => process.exit(0));
process.stdin.on('error', () => process.exit(1));
process.stdout.on('error', () => process.exit(1));
process.stdin.pipe(upstream);
upstream.pipe(process.stdout);
