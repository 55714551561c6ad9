// Helpers of the client's tests: they run against a real roomd named by the environment
//
//   ROOMD_URL         http://127.0.0.1:PORT
//   ROOMD_SDKAPPID    the app (the development app: 1400000000)
//   ROOMD_SECRET_KEY  its secret key (the tests sign UserSigs with it)
//   ROOMD_ADMIN       an App admin of it (the tests set the callback URL through REST)
//
// `go test ./internal/app -run TestJSClient` starts a roomd and runs these tests with the
// variables set. By hand: `roomd serve --data /tmp/r`, then
//   ROOMD_URL=http://127.0.0.1:8080 ROOMD_SDKAPPID=1400000000 ROOMD_ADMIN=administrator \
//   ROOMD_SECRET_KEY="$(cat /tmp/r/dev-secret-key)" node --test js/roomd-client/tests/
// Without ROOMD_URL the tests that need a server are skipped.

import { createHmac, randomBytes } from 'node:crypto';
import { createServer as createHTTPServer } from 'node:http';
import { createServer as createTCPServer, connect as tcpConnect } from 'node:net';
import { deflateSync } from 'node:zlib';
import { connect } from '../roomd-client.js';
import { TestWebSocket } from './websocket.js';

export const env = {
  url: process.env.ROOMD_URL || '',
  sdkAppId: Number(process.env.ROOMD_SDKAPPID || 1400000000),
  key: process.env.ROOMD_SECRET_KEY || '',
  admin: process.env.ROOMD_ADMIN || 'administrator',
  /** The WebSocket to give the client: none (the global one) when Node has one, else the
   * tests' own (websocket.js), which also exercises the WebSocket option. */
  WebSocket: typeof globalThis.WebSocket === 'function' ? undefined : TestWebSocket,
};

/** The reason to skip the tests that need a server, or false. */
export const noServer = env.url && env.key ? false : 'ROOMD_URL and ROOMD_SECRET_KEY are not set (see tests/roomd.js)';

/** A unique name for this run (room ids, user ids). */
export function unique(prefix) {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Signs a UserSig (version 2.0, Tencent's algorithm; spec/account-and-usersig.md). */
export function userSig(userId, { sdkAppId = env.sdkAppId, key = env.key, expire = 86400, time = Math.floor(Date.now() / 1000) } = {}) {
  const content = `TLS.identifier:${userId}\nTLS.sdkappid:${sdkAppId}\nTLS.time:${time}\nTLS.expire:${expire}\n`;
  const sig = createHmac('sha256', key).update(content).digest('base64');
  const doc = JSON.stringify({
    'TLS.ver': '2.0', 'TLS.identifier': userId, 'TLS.sdkappid': sdkAppId,
    'TLS.expire': expire, 'TLS.time': time, 'TLS.sig': sig,
  });
  return deflateSync(Buffer.from(doc)).toString('base64').replace(/\+/g, '*').replace(/\//g, '-').replace(/=/g, '_');
}

/** Connects as userId to roomd (or to url, e.g. a proxy's). */
export function connectAs(userId, options = {}) {
  return connect({ url: env.url, sdkAppId: env.sdkAppId, userId, userSig: userSig(userId), platform: 'Web', WebSocket: env.WebSocket, ...options });
}

/** Calls a REST API as the App admin and returns the reply (throws unless it is OK). */
export async function rest(api, body) {
  const q = new URLSearchParams({
    sdkappid: String(env.sdkAppId), identifier: env.admin, usersig: userSig(env.admin),
    random: String(Math.floor(Math.random() * 2 ** 31)), contenttype: 'json',
  });
  const res = await fetch(`${env.url}/v4/${api}?${q}`, { method: 'POST', body: JSON.stringify(body) });
  const reply = await res.json();
  if (reply.ErrorCode !== 0) throw new Error(`${api}: ${reply.ErrorCode} ${reply.ErrorInfo}`);
  return reply;
}

/** Waits until fn() returns a truthy value, polling; rejects after timeout ms. */
export async function waitFor(fn, what, timeout = 5000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Records the events of a client: events(name) lists the params received so far. */
export function recorder(client, names) {
  const got = new Map(names.map((n) => [n, []]));
  for (const n of names) client.on(n, (p) => got.get(n).push(p));
  return {
    events: (n) => got.get(n),
    waitFor: (n, pred = () => true, what = n) => waitFor(() => got.get(n).find(pred), `${client.userId}: ${what}`),
  };
}

/** An App backend on 127.0.0.1 that records the callbacks it receives (and answers OK). */
export async function receiver() {
  const callbacks = [];
  const server = createHTTPServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const q = new URL(req.url, 'http://x').searchParams;
      try { callbacks.push({ command: q.get('CallbackCommand'), body: JSON.parse(body) }); } catch { /* recorded nothing */ }
      res.setHeader('Content-Type', 'application/json');
      res.end('{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}/callback`,
    callbacks,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
  };
}

/** A TCP proxy in front of roomd, to break connections as a network would: drop() resets
 * every connection through it (the server sees the TCP connection break, no close frame);
 * freeze() stops forwarding bytes but keeps the connections open (a dead peer). */
export async function proxy() {
  const target = new URL(env.url);
  const pairs = new Set();
  let frozen = false;
  const server = createTCPServer((down) => {
    const up = tcpConnect(Number(target.port), target.hostname);
    const pair = { down, up };
    pairs.add(pair);
    const end = () => { pairs.delete(pair); down.destroy(); up.destroy(); };
    down.on('data', (d) => { if (!frozen) up.write(d); });
    up.on('data', (d) => { if (!frozen) down.write(d); });
    down.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    get connections() { return pairs.size; },
    drop() {
      for (const { down, up } of [...pairs]) { down.resetAndDestroy?.() ?? down.destroy(); up.resetAndDestroy?.() ?? up.destroy(); }
    },
    freeze(on = true) { frozen = on; },
    close() {
      this.drop();
      return new Promise((r) => server.close(r));
    },
  };
}
