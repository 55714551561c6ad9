// The parts of the client that need no server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoff, connect, ErrorCode, EVENTS, METHODS, RoomdClient, RoomdError } from '../roomd-client.js';
import { env } from './roomd.js';

const base = { sdkAppId: 1400000000, userId: 'alice', userSig: 'sig' };

test('every method is a method of the client', () => {
  assert.equal(new Set(METHODS).size, METHODS.length);
  assert.equal(new Set(EVENTS).size, EVENTS.length);
  for (const m of METHODS) assert.equal(typeof RoomdClient.prototype[m], 'function', m);
  for (const e of EVENTS) assert.match(e, /^on[A-Z]/);
});

test('the URL may be an origin, http(s) or ws(s)', () => {
  const url = (u) => new RoomdClient({ ...base, url: u }).url;
  assert.equal(url('http://127.0.0.1:8080'), 'ws://127.0.0.1:8080/v1/client');
  assert.equal(url('https://live.example.com/'), 'wss://live.example.com/v1/client');
  assert.equal(url('wss://live.example.com/v1/client'), 'wss://live.example.com/v1/client');
  assert.equal(url('ws://h:1/proxy/v1/client#x'), 'ws://h:1/proxy/v1/client');
  assert.throws(() => url('ftp://h/'), TypeError);
  assert.throws(() => new RoomdClient({ ...base }), /url is required/);
  assert.throws(() => new RoomdClient({ ...base, url: 'http://h', userSig: '' }), /userSig/);
  assert.throws(() => new RoomdClient({ ...base, url: 'http://h', userId: '' }), /userId/);
});

test('backoff doubles up to the maximum, with jitter', () => {
  for (let i = 0; i < 200; i++) {
    const d1 = backoff(1, 500, 30000);
    assert.ok(d1 >= 250 && d1 <= 500, `attempt 1: ${d1}`);
    const d4 = backoff(4, 500, 30000);
    assert.ok(d4 >= 2000 && d4 <= 4000, `attempt 4: ${d4}`);
    const d40 = backoff(40, 500, 30000);
    assert.ok(d40 >= 15000 && d40 <= 30000, `attempt 40: ${d40}`);
  }
});

test('without a WebSocket implementation connect says how to get one', async () => {
  await assert.rejects(connect({ ...base, url: 'http://127.0.0.1:1', WebSocket: 42 }), (err) => {
    assert.ok(err instanceof RoomdError);
    assert.equal(err.code, ErrorCode.NO_WEBSOCKET);
    assert.match(err.message, /--experimental-websocket/);
    return true;
  });
});

test('an unreachable server rejects with CONNECT_FAILED', async () => {
  await assert.rejects(connect({ ...base, url: 'http://127.0.0.1:1', WebSocket: env.WebSocket }), { code: ErrorCode.CONNECT_FAILED });
});
