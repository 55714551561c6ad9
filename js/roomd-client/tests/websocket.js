// A minimal WebSocket client (RFC 6455) on node:net, for the tests on a Node without a global
// WebSocket (Debian bookworm's Node 18; Node 20 without --experimental-websocket). It has the
// browser surface the client uses — readyState, onopen/onmessage/onerror/onclose, send,
// close — and answers pings. Text frames only, no extensions, no TLS. Test code only: the
// library has no dependencies and takes whatever WebSocket it is given.
import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export class TestWebSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;

  constructor(url) {
    const u = new URL(url);
    if (u.protocol !== 'ws:') throw new SyntaxError(`TestWebSocket: only ws: URLs, not ${u.protocol}`);
    this.url = url;
    this.readyState = 0;
    this.onopen = this.onmessage = this.onerror = this.onclose = null;
    this._buf = Buffer.alloc(0);
    this._frags = [];
    this._closeSent = false;
    this._closed = false;
    const key = randomBytes(16).toString('base64');
    this._accept = createHash('sha1').update(key + GUID).digest('base64');
    this._sock = connect(Number(u.port || 80), u.hostname, () => {
      this._sock.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    this._sock.on('data', (d) => this._data(d));
    this._sock.on('error', () => this._fail());
    this._sock.on('close', () => this._finish(1006, ''));
  }

  send(text) {
    if (this.readyState !== 1) throw new Error('TestWebSocket: not open');
    this._write(0x1, Buffer.from(String(text)));
  }

  close(code = 1000, reason = '') {
    if (this.readyState >= 2) return;
    if (this.readyState === 0) {
      this._sock.destroy();
      return;
    }
    this.readyState = 2;
    this._sendClose(code, reason);
    setTimeout(() => this._sock.destroy(), 2000).unref();
  }

  _sendClose(code, reason) {
    if (this._closeSent) return;
    this._closeSent = true;
    const r = Buffer.from(reason);
    const p = Buffer.alloc(2 + r.length);
    p.writeUInt16BE(code, 0);
    r.copy(p, 2);
    this._write(0x8, p);
  }

  _write(op, payload) {
    const mask = randomBytes(4);
    let head;
    if (payload.length < 126) {
      head = Buffer.from([0x80 | op, 0x80 | payload.length]);
    } else if (payload.length < 65536) {
      head = Buffer.alloc(4);
      head[0] = 0x80 | op; head[1] = 0x80 | 126; head.writeUInt16BE(payload.length, 2);
    } else {
      head = Buffer.alloc(10);
      head[0] = 0x80 | op; head[1] = 0x80 | 127; head.writeBigUInt64BE(BigInt(payload.length), 2);
    }
    const body = Buffer.from(payload);
    for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
    this._sock.write(Buffer.concat([head, mask, body]));
  }

  _data(d) {
    this._buf = Buffer.concat([this._buf, d]);
    if (this.readyState === 0) {
      const end = this._buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this._buf.subarray(0, end).toString();
      this._buf = this._buf.subarray(end + 4);
      if (!/^HTTP\/1\.1 101 /.test(head) || !head.includes(this._accept)) {
        this._fail();
        return;
      }
      this.readyState = 1;
      this.onopen?.({ type: 'open' });
    }
    for (;;) {
      if (this._buf.length < 2) return;
      const fin = this._buf[0] & 0x80;
      const op = this._buf[0] & 0x0f;
      let len = this._buf[1] & 0x7f;
      let off = 2;
      if (len === 126) { if (this._buf.length < 4) return; len = this._buf.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (this._buf.length < 10) return; len = Number(this._buf.readBigUInt64BE(2)); off = 10; }
      if (this._buf.length < off + len) return;
      const payload = this._buf.subarray(off, off + len);
      this._buf = this._buf.subarray(off + len);
      this._frame(fin, op, Buffer.from(payload));
    }
  }

  _frame(fin, op, payload) {
    if (op === 0x9) { this._write(0xa, payload); return; }
    if (op === 0xa) return;
    if (op === 0x8) {
      const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      this._closeCode = code;
      this._closeReason = payload.subarray(2).toString();
      this.readyState = 2;
      this._sendClose(code === 1005 ? 1000 : code, '');
      this._sock.end();
      return;
    }
    if (op === 0x1 || op === 0x2 || op === 0x0) {
      this._frags.push(payload);
      if (!fin) return;
      const data = Buffer.concat(this._frags).toString();
      this._frags = [];
      this.onmessage?.({ type: 'message', data });
    }
  }

  _fail() {
    if (this._closed) return;
    this.onerror?.({ type: 'error' });
    this._sock.destroy();
  }

  _finish(code, reason) {
    if (this._closed) return;
    this._closed = true;
    this.readyState = 3;
    this.onclose?.({ type: 'close', code: this._closeCode ?? code, reason: this._closeReason ?? reason, wasClean: this._closeCode !== undefined });
  }
}
