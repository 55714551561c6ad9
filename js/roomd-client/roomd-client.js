// roomd-client: the JavaScript client of roomd's client API — JSON-RPC 2.0 over a WebSocket
// at /v1/client, with TUIRoomEngine's method names and TUIRoomObserver's event names
// (docs/client-protocol.md in the roomd repository).
//
// One ES module, no dependencies, no build step. It runs in browsers and in Node 20+ (Node 22
// has a global WebSocket; on Node 20 run with --experimental-websocket or pass a WebSocket
// implementation, e.g. the `ws` package's, as the `WebSocket` option). Types are in
// roomd-client.d.ts next to this file; roomd serves both at /v1/client.js and /v1/client.d.ts.
//
//   import { connect } from '/v1/client.js';
//   const client = await connect({ sdkAppId: 1400000000, userId: 'alice', userSig });
//   client.on('onUserRoleChanged', (e) => console.log(e.userId, 'is now', e.userRole));
//   await client.enterRoom({ roomId: 'live-1' });
//   await client.changeUserRole({ roomId: 'live-1', userId: 'bob', role: 'roomOwner' });

/** The methods of the client API, in the order of docs/client-protocol.md. Each one is also a
 * method of RoomdClient: `client.enterRoom(params)` is `client.call('enterRoom', params)`. */
export const METHODS = Object.freeze([
  // rooms and people
  'createRoom',
  'destroyRoom',
  'enterRoom',
  'exitRoom',
  'fetchRoomInfo',
  'updateRoomNameByAdmin',
  'updateRoomInfoByAdmin',
  'getRoomMetadata',
  'setRoomMetadataByAdmin',
  'deleteRoomMetadataByAdmin',
  'getUserList',
  'changeUserRole',
  'kickRemoteUserOutOfRoom',
  'disableSendingMessageByAdmin',
  'disableSendingMessageForAllUser',
  // messages
  'sendTextMessage',
  'sendCustomMessage',
  // gifts and likes
  'getGiftList',
  'sendGift',
  'sendLike',
  'getGiftCountByAnchor',
  'getLikesCount',
  // follows
  'followUser',
  'unfollowUser',
  'checkFollowType',
  'getMyFollowingList',
  'getMyFollowersList',
  'getMutualFollowersList',
  // seats
  'getSeatList',
  'takeSeat',
  'leaveSeat',
  'moveToSeat',
  'takeUserOnSeatByAdmin',
  'kickUserOffSeatByAdmin',
  'lockSeatByAdmin',
  'getSeatApplicationList',
  'responseRemoteRequest',
  'cancelRequest',
  // battles
  'requestBattle',
  'acceptBattle',
  'rejectBattle',
  'exitBattle',
]);

/** The server's pushes (JSON-RPC notifications): listen with `client.on(name, fn)`. */
export const EVENTS = Object.freeze([
  'onRemoteUserEnterRoom',
  'onRemoteUserLeaveRoom',
  'onKickedOutOfRoom',
  'onRoomDismissed',
  'onUserRoleChanged',
  'onRoomInfoChanged',
  'onRoomMetadataChanged',
  'onSendMessageForAllUserDisableChanged',
  'onSendMessageForUserDisableChanged',
  'onReceiveTextMessage',
  'onReceiveCustomMessage',
  'onReceiveGiftMessage',
  'onGiftCountChanged',
  'onReceiveLikesMessage',
  'onSeatListChanged',
  'onKickedOffSeat',
  'onRequestReceived',
  'onRequestCancelled',
  'onRequestProcessed',
  'onRequestAccepted',
  'onRequestRejected',
  'onRequestTimeout',
  'onBattleRequestReceived',
  'onBattleRequestAccept',
  'onBattleRequestReject',
  'onBattleRequestTimeout',
  'onBattleRequestCancelled',
  'onBattleStarted',
  'onBattleScoreChanged',
  'onUserExitBattle',
  'onBattleEnded',
]);

/** The codes of errors the client makes itself. They are negative and outside JSON-RPC's
 * range (-32768…-32000), so they never collide with a code of the server: Tencent's codes
 * (100004, 100006, 70009, …) are positive, JSON-RPC's transport codes are -327xx/-326xx. */
export const ErrorCode = Object.freeze({
  /** The connection closed (or was lost) before the response came; the call may or may not
   * have taken effect. Also every call after close(). */
  CLOSED: -1001,
  /** No response within the call timeout (option callTimeout). */
  TIMEOUT: -1002,
  /** The WebSocket could not be opened and the server's refusal could not be read (network
   * error, or a cross-origin server the page cannot probe). */
  CONNECT_FAILED: -1003,
  /** No WebSocket implementation: pass one as the WebSocket option. */
  NO_WEBSOCKET: -1004,
});

/** An error of a call or of connecting: `code` is the server's code (a Tencent code such as
 * 100006, or a JSON-RPC transport code) or one of ErrorCode. */
export class RoomdError extends Error {
  /**
   * @param {number} code
   * @param {string} message
   * @param {{httpStatus?: number, method?: string, data?: unknown}} [extra]
   */
  constructor(code, message, extra = {}) {
    super(message);
    this.name = 'RoomdError';
    /** @type {number} */
    this.code = code;
    /** HTTP status of a connection refused before the upgrade (e.g. 401), else undefined. */
    this.httpStatus = extra.httpStatus;
    /** The method of the call that failed, when it is a call's error. */
    this.method = extra.method;
    /** JSON-RPC's error `data`, when the server sent one. */
    this.data = extra.data;
  }
}

const CONNECTION_EVENTS = ['open', 'close', 'reconnecting', 'reconnected', 'push', 'error'];

const DEFAULTS = {
  callTimeout: 15000,
  connectTimeout: 10000,
  heartbeatInterval: 20000,
  heartbeatTimeout: 10000,
  reconnect: { initialDelay: 500, maxDelay: 30000, maxAttempts: Infinity },
};

/** The JSON-RPC method of the client-side heartbeat probe: the server has no such method
 * and answers -32601 at once, without touching the database. The answer (any frame) proves
 * the connection alive. "rpc." names are reserved by JSON-RPC for such extensions. */
const PROBE_METHOD = 'rpc.ping';

/**
 * Connects to roomd and resolves with a ready client, or rejects with a RoomdError: for a
 * refused connection its code is the server's (70001…70014 a bad UserSig, 70020 an unknown
 * SDKAppID, …) when the client could read it, else ErrorCode.CONNECT_FAILED.
 * @param {import('./roomd-client.d.ts').ConnectOptions} options
 * @returns {Promise<RoomdClient>}
 */
export function connect(options) {
  return RoomdClient.connect(options);
}

/** A connection to roomd's client API as one user. Make one with `connect()`. */
export class RoomdClient {
  #o;
  #WS;
  #endpoint;
  /** @type {any} */
  #ws = null;
  /** 'connecting' | 'open' | 'reconnecting' | 'closed' */
  #state = 'connecting';
  #nextId = 1;
  #probeId = 1;
  /** requests sent and not answered, by id */
  #pending = new Map();
  /** requests made while reconnecting, sent once the rooms are entered again */
  #queue = [];
  #listeners = new Map();
  #rooms = new Set();
  #hbTimer = null;
  #lastFrame = 0;
  #probeSentAt = 0;
  #reconnecting = false;
  #wakeReconnect = null;
  #closeInfo = null;

  /** Use connect(); the constructor does not open the connection. */
  constructor(options) {
    if (!options || typeof options !== 'object') throw new TypeError('roomd-client: options are required');
    const o = { ...DEFAULTS, ...options };
    o.reconnect = options.reconnect === false ? false : { ...DEFAULTS.reconnect, ...(options.reconnect || {}) };
    if (o.sdkAppId === undefined || o.sdkAppId === null || o.sdkAppId === '') throw new TypeError('roomd-client: sdkAppId is required');
    if (!o.userId) throw new TypeError('roomd-client: userId is required');
    if (!o.userSig) throw new TypeError('roomd-client: userSig is required (a string, or a function returning one)');
    if (o.platform === undefined && typeof document !== 'undefined') o.platform = 'Web';
    this.#o = o;
    this.#WS = o.WebSocket || globalThis.WebSocket;
    this.#endpoint = endpointOf(o.url);
    for (const [name, fn] of Object.entries(o.on || {})) this.on(name, fn);
  }

  /** See connect(). */
  static async connect(options) {
    const c = new RoomdClient(options);
    if (typeof c.#WS !== 'function') {
      c.#state = 'closed';
      throw new RoomdError(ErrorCode.NO_WEBSOCKET, 'roomd-client: no WebSocket implementation; on Node 20 run node with ' +
        '--experimental-websocket or pass one as the WebSocket option (e.g. the ws package\'s)');
    }
    try {
      await c.#openSocket();
    } catch (err) {
      c.#state = 'closed';
      throw err;
    }
    c.#state = 'open';
    c.#startHeartbeat();
    c.#emit('open', { reconnect: false });
    return c;
  }

  /** The SDKAppID this client connected with. */
  get sdkAppId() { return Number(this.#o.sdkAppId); }
  /** The UserID this client is. */
  get userId() { return this.#o.userId; }
  /** 'connecting', 'open', 'reconnecting' or 'closed'. */
  get state() { return this.#state; }
  /** The rooms this client has entered (and will enter again after a reconnect). */
  get rooms() { return [...this.#rooms]; }
  /** The WebSocket URL, without the UserSig. */
  get url() { return this.#endpoint.toString(); }

  /**
   * Calls a method of the client API. Resolves with its result; rejects with a RoomdError
   * whose code is the server's Tencent code (or a JSON-RPC code, or one of ErrorCode).
   * A call made while reconnecting waits until the client is back in its rooms.
   * @param {string} method
   * @param {object} [params]
   * @returns {Promise<any>}
   */
  call(method, params) {
    if (typeof method !== 'string' || method === '') return Promise.reject(new TypeError('roomd-client: method must be a non-empty string'));
    const p = params === undefined || params === null ? {} : params;
    return new Promise((resolve, reject) => {
      if (this.#state === 'closed') {
        reject(this.#closedError(method));
        return;
      }
      const req = { id: 0, method, params: p, resolve, reject, done: false, timer: null };
      const ms = this.#o.callTimeout;
      if (ms > 0 && Number.isFinite(ms)) {
        req.timer = setTimeout(() => this.#settle(req, new RoomdError(ErrorCode.TIMEOUT,
          `${method}: no response within ${ms} ms`, { method })), ms);
      }
      if (this.#state === 'open') this.#send(req);
      else this.#queue.push(req);
    }).then((result) => {
      this.#track(method, p, result);
      return result;
    }, (err) => {
      if (err instanceof RoomdError && err.code === 100005 && method === 'exitRoom') this.#rooms.delete(p.roomId);
      throw err;
    });
  }

  /**
   * Listens to a push (onUserRoleChanged, …: the listener gets its params), to every push
   * ('push': gets {method, params}), or to the connection's events: 'open', 'reconnecting',
   * 'reconnected', 'close', 'error'. Returns a function that removes the listener.
   * @param {string} event
   * @param {(arg: any) => void} listener
   * @returns {() => void}
   */
  on(event, listener) {
    if (typeof listener !== 'function') throw new TypeError('roomd-client: listener must be a function');
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => this.off(event, listener);
  }

  /** Removes a listener added with on(). */
  off(event, listener) {
    this.#listeners.get(event)?.delete(listener);
  }

  /** Listens to the next occurrence of an event only. */
  once(event, listener) {
    const off = this.on(event, (arg) => {
      off();
      listener(arg);
    });
    return off;
  }

  /**
   * Closes the connection for good (a clean close: the server reports the user as having
   * left its rooms, Offline/Leave). Calls not answered yet are rejected with
   * ErrorCode.CLOSED. Resolves when the socket has closed (at most about 2 s).
   * @param {number} [code] 1000 or 3000–4999
   * @param {string} [reason]
   * @returns {Promise<void>}
   */
  close(code = 1000, reason = '') {
    if (this.#state === 'closed') return Promise.resolve();
    const ws = this.#ws;
    this.#finish({ code, reason, byClient: true });
    if (!ws || ws.readyState === 3) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, 2000);
      ws.onclose = () => { clearTimeout(t); resolve(); };
      try { ws.close(code, reason); } catch { clearTimeout(t); resolve(); }
    });
  }

  // ---- connection ----

  async #url() {
    const sig = typeof this.#o.userSig === 'function' ? await this.#o.userSig() : this.#o.userSig;
    const u = new URL(this.#endpoint);
    u.searchParams.set('sdkappid', String(this.#o.sdkAppId));
    u.searchParams.set('userid', this.#o.userId);
    u.searchParams.set('usersig', sig);
    if (this.#o.platform) u.searchParams.set('platform', this.#o.platform);
    return u.toString();
  }

  /** Opens a WebSocket; resolves when it is open, rejects with a RoomdError when it closes
   * (or times out) before. */
  async #openSocket() {
    const url = await this.#url();
    return new Promise((resolve, reject) => {
      let ws;
      try {
        ws = new this.#WS(url);
      } catch (err) {
        reject(new RoomdError(ErrorCode.CONNECT_FAILED, `roomd-client: cannot connect: ${err && err.message}`));
        return;
      }
      this.#ws = ws;
      let opened = false;
      const timer = setTimeout(() => {
        if (opened) return;
        this.#detach(ws);
        try { ws.close(); } catch { /* closing anyway */ }
        reject(new RoomdError(ErrorCode.CONNECT_FAILED, `roomd-client: no connection within ${this.#o.connectTimeout} ms`));
      }, this.#o.connectTimeout);
      ws.onopen = () => {
        opened = true;
        clearTimeout(timer);
        this.#lastFrame = Date.now();
        this.#probeSentAt = 0;
        resolve();
      };
      let failed = false;
      const fail = () => {
        if (failed) return;
        failed = true;
        clearTimeout(timer);
        this.#detach(ws);
        refusal(url).then(reject, reject);
      };
      ws.onmessage = (ev) => { if (this.#ws === ws) this.#onFrame(ev.data); };
      // Some implementations (Node 20's) fire only an error, no close, when the connection
      // fails; after an error on an open connection, check that it did close.
      ws.onerror = () => {
        if (!opened) {
          fail();
          return;
        }
        setTimeout(() => { if (this.#ws === ws && ws.readyState >= 2) this.#onDrop(1006, 'connection error'); }, 100);
      };
      ws.onclose = (ev) => {
        if (!opened) fail();
        else if (this.#ws === ws) this.#onDrop(ev.code, ev.reason);
      };
    });
  }

  #detach(ws) {
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
    if (this.#ws === ws) this.#ws = null;
  }

  /** The connection ended without close(): reconnect, unless the server ended the session
   * on purpose (1000) or reconnecting is off. */
  #onDrop(code, reason) {
    this.#stopHeartbeat();
    if (this.#ws) this.#detach(this.#ws);
    this.#rejectPending(`connection lost (${code}${reason ? ' ' + reason : ''}) before the response`);
    if (this.#state === 'closed') return;
    if (this.#reconnecting) {
      this.#wakeReconnect?.();
      return;
    }
    if (code === 1000 || this.#o.reconnect === false) {
      this.#finish({ code, reason, byClient: false });
      return;
    }
    this.#reconnectLoop(code, reason);
  }

  async #reconnectLoop(code, reason) {
    this.#reconnecting = true;
    this.#state = 'reconnecting';
    const r = this.#o.reconnect;
    try {
      for (let attempt = 1; ; attempt++) {
        if (attempt > r.maxAttempts) {
          this.#finish({ code, reason: `gave up reconnecting after ${r.maxAttempts} attempts`, byClient: false });
          return;
        }
        const delay = backoff(attempt, r.initialDelay, r.maxDelay);
        this.#emit('reconnecting', { attempt, delay, code, reason });
        await new Promise((resolve) => {
          const t = setTimeout(resolve, delay);
          this.#wakeReconnect = () => { clearTimeout(t); resolve(); };
        });
        this.#wakeReconnect = null;
        if (this.#state === 'closed') return;
        try {
          await this.#openSocket();
        } catch (err) {
          if (this.#state === 'closed') return;
          if (err.httpStatus >= 400 && err.httpStatus < 500) {
            // Refused for good (a UserSig that expired, an app that is gone): retrying
            // with the same credentials cannot succeed.
            this.#finish({ code: 1006, reason: err.message, error: err, byClient: false });
            return;
          }
          code = 1006;
          reason = err.message;
          continue;
        }
        this.#startHeartbeat();
        this.#emit('open', { reconnect: true, attempt });
        const failed = [];
        let lost = false;
        for (const roomId of [...this.#rooms]) {
          try {
            await this.#rawCall('enterRoom', { roomId });
          } catch (err) {
            if (err.code === ErrorCode.CLOSED || err.code === ErrorCode.TIMEOUT) {
              lost = true;
              break;
            }
            this.#rooms.delete(roomId);
            failed.push({ roomId, error: err });
          }
        }
        if (this.#state === 'closed') return;
        if (lost) {
          if (this.#ws) {
            const ws = this.#ws;
            this.#detach(ws);
            try { ws.close(4000, 'rejoin failed'); } catch { /* gone */ }
          }
          this.#stopHeartbeat();
          code = 1006;
          reason = 'connection lost while entering the rooms again';
          continue;
        }
        this.#state = 'open';
        this.#reconnecting = false;
        const queued = this.#queue.splice(0);
        for (const req of queued) if (!req.done) this.#send(req);
        this.#emit('reconnected', { attempt, rooms: [...this.#rooms], failed });
        return;
      }
    } finally {
      this.#reconnecting = false;
      this.#wakeReconnect = null;
    }
  }

  #finish(info) {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#closeInfo = info;
    this.#stopHeartbeat();
    this.#wakeReconnect?.();
    const ws = this.#ws;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onerror = null;
      ws.onclose = null;
      this.#ws = null;
    }
    this.#rejectPending('the client is closed');
    for (const req of this.#queue.splice(0)) this.#settle(req, this.#closedError(req.method));
    this.#emit('close', info);
  }

  #closedError(method) {
    const why = this.#closeInfo ? ` (${this.#closeInfo.code}${this.#closeInfo.reason ? ' ' + this.#closeInfo.reason : ''})` : '';
    return new RoomdError(ErrorCode.CLOSED, `roomd-client: the connection is closed${why}`, { method });
  }

  #rejectPending(why) {
    for (const req of [...this.#pending.values()]) {
      this.#settle(req, new RoomdError(ErrorCode.CLOSED, `${req.method}: ${why}; it may or may not have taken effect`, { method: req.method }));
    }
  }

  // ---- frames ----

  /** A call that bypasses the queue (entering the rooms again while reconnecting). */
  #rawCall(method, params) {
    return new Promise((resolve, reject) => {
      const req = { id: 0, method, params, resolve, reject, done: false, timer: null };
      req.timer = setTimeout(() => this.#settle(req, new RoomdError(ErrorCode.TIMEOUT, `${method}: no response`, { method })), this.#o.callTimeout);
      this.#send(req);
    });
  }

  #send(req) {
    req.id = this.#nextId++;
    const frame = JSON.stringify({ jsonrpc: '2.0', id: req.id, method: req.method, params: req.params });
    this.#pending.set(req.id, req);
    try {
      this.#ws.send(frame);
    } catch (err) {
      this.#settle(req, new RoomdError(ErrorCode.CLOSED, `${req.method}: cannot send: ${err && err.message}`, { method: req.method }));
    }
  }

  #settle(req, err, result) {
    if (req.done) return;
    req.done = true;
    clearTimeout(req.timer);
    if (req.id) this.#pending.delete(req.id);
    const i = this.#queue.indexOf(req);
    if (i >= 0) this.#queue.splice(i, 1);
    if (err) req.reject(err);
    else req.resolve(result);
  }

  #onFrame(data) {
    this.#lastFrame = Date.now();
    this.#probeSentAt = 0;
    let msg;
    try {
      msg = JSON.parse(typeof data === 'string' ? data : new TextDecoder().decode(data));
    } catch (err) {
      this.#emit('error', new RoomdError(-32700, `roomd-client: a frame of the server is not JSON: ${err.message}`));
      return;
    }
    if (!msg || typeof msg !== 'object') return;
    if (typeof msg.method === 'string' && msg.id === undefined) {
      const params = msg.params || {};
      this.#trackPush(msg.method, params);
      this.#emit(msg.method, params);
      this.#emit('push', { method: msg.method, params });
      return;
    }
    const req = this.#pending.get(msg.id);
    if (!req) return; // a heartbeat probe's answer, or a call that timed out
    if (msg.error) {
      const e = msg.error;
      this.#settle(req, new RoomdError(e.code, e.message, { method: req.method, data: e.data }));
    } else {
      this.#settle(req, null, msg.result);
    }
  }

  // ---- rooms entered ----

  #track(method, params, result) {
    switch (method) {
      case 'enterRoom':
        this.#rooms.add(params.roomId);
        break;
      case 'exitRoom':
      case 'destroyRoom':
        this.#rooms.delete(params.roomId);
        break;
    }
    return result;
  }

  #trackPush(method, params) {
    if (method === 'onKickedOutOfRoom' || method === 'onRoomDismissed') this.#rooms.delete(params.roomId);
  }

  // ---- heartbeat ----

  /** Every tick: after heartbeatInterval ms without a frame from the server, send a probe;
   * when heartbeatTimeout ms pass after it without any frame, the connection is dead: close
   * it and reconnect. (The server's own pings are answered by the WebSocket implementation
   * and are invisible to scripts, so a quiet room has no frames at all.) */
  #startHeartbeat() {
    this.#stopHeartbeat();
    const { heartbeatInterval: every, heartbeatTimeout: wait } = this.#o;
    if (!(every > 0) || !(wait > 0)) return;
    const tick = Math.max(250, Math.min(every, wait) / 2);
    this.#hbTimer = setInterval(() => this.#beat(), tick);
    this.#hbTimer.unref?.();
  }

  #stopHeartbeat() {
    if (this.#hbTimer) clearInterval(this.#hbTimer);
    this.#hbTimer = null;
    this.#probeSentAt = 0;
  }

  #beat() {
    const ws = this.#ws;
    if (!ws || ws.readyState !== 1) return;
    const now = Date.now();
    if (this.#probeSentAt) {
      if (now - this.#probeSentAt >= this.#o.heartbeatTimeout) {
        this.#detach(ws);
        try { ws.close(4000, 'heartbeat timeout'); } catch { /* dead anyway */ }
        this.#onDrop(4000, 'heartbeat timeout: no frame from the server');
      }
      return;
    }
    if (now - this.#lastFrame >= this.#o.heartbeatInterval) {
      this.#probeSentAt = now;
      try {
        ws.send(JSON.stringify({ jsonrpc: '2.0', id: `hb-${this.#probeId++}`, method: PROBE_METHOD }));
      } catch { /* the timeout will tell */ }
    }
  }

  // ---- events ----

  #emit(event, arg) {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(arg);
      } catch (err) {
        if (typeof globalThis.reportError === 'function') globalThis.reportError(err);
        else console.error('roomd-client: a listener of', event, 'threw', err);
      }
    }
  }
}

// One line per method: client.enterRoom(params) is client.call('enterRoom', params).
for (const m of METHODS) RoomdClient.prototype[m] = function (params) { return this.call(m, params); };

/** The names of events a listener may use besides the pushes. */
export const CONNECTION_EVENT_NAMES = Object.freeze(CONNECTION_EVENTS);

/** The exponential backoff with "equal jitter": half of the doubled delay, plus a random
 * part of the other half, so that clients dropped together do not come back together. */
export function backoff(attempt, initialDelay = DEFAULTS.reconnect.initialDelay, maxDelay = DEFAULTS.reconnect.maxDelay) {
  const d = Math.min(maxDelay, initialDelay * 2 ** Math.min(attempt - 1, 30));
  return Math.round(d / 2 + Math.random() * (d / 2));
}

/** The WebSocket endpoint of a roomd URL: http(s) becomes ws(s), a bare origin gets
 * /v1/client; in a page, no URL means the page's own server. */
function endpointOf(url) {
  const base = globalThis.location && globalThis.location.href;
  if (!url && !base) throw new TypeError('roomd-client: url is required outside a browser');
  const u = new URL(url || '/v1/client', base);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new TypeError(`roomd-client: not a ws, wss, http or https URL: ${url}`);
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/v1/client';
  u.hash = '';
  return u;
}

/** Why a WebSocket did not open: WebSocket hides the HTTP refusal, so ask the same URL over
 * plain HTTP, where roomd answers the refusal's JSON body ({code, message}) and 426 when the
 * credentials are good. */
async function refusal(wsURL) {
  const generic = new RoomdError(ErrorCode.CONNECT_FAILED, 'roomd-client: the WebSocket connection failed');
  if (typeof fetch !== 'function') return generic;
  try {
    const u = new URL(wsURL);
    u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
    const res = await fetch(u, { cache: 'no-store' });
    if (res.status === 426 || res.ok) return generic;
    const body = await res.json();
    if (typeof body.code === 'number') {
      return new RoomdError(body.code, `roomd refused the connection: HTTP ${res.status}, code ${body.code}: ${body.message}`, { httpStatus: res.status });
    }
  } catch { /* unreachable, or a cross-origin page that may not read the answer */ }
  return generic;
}
