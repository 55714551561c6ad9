// The client against a real roomd (see roomd.js for the environment it needs).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect, ErrorCode, RoomdClient, RoomdError } from '../roomd-client.js';
import { connectAs, env, noServer, proxy, receiver, recorder, rest, unique, userSig, waitFor } from './roomd.js';

describe('roomd-client against roomd', { skip: noServer }, () => {
  const open = [];
  const track = (c) => { open.push(c); return c; };
  after(async () => { await Promise.all(open.map((c) => c.close())); });

  test('connects and calls a method with a result', async () => {
    const alice = track(await connectAs(unique('alice')));
    assert.ok(alice instanceof RoomdClient);
    assert.equal(alice.state, 'open');
    assert.equal(alice.url, env.url.replace(/^http/, 'ws') + '/v1/client');
    const roomId = unique('r');
    const created = await alice.createRoom({ roomId, roomName: 'Friday night' });
    assert.equal(created.roomInfo.ownerId, alice.userId);
    assert.equal(created.roomInfo.roomName, 'Friday night');
    const entered = await alice.enterRoom({ roomId });
    assert.equal(entered.roomInfo.roomId, roomId);
    assert.deepEqual(alice.rooms, [roomId]);
    const info = await alice.call('fetchRoomInfo', { roomId });
    assert.equal(info.roomInfo.memberCount, 1);
    const list = await alice.getUserList({ roomId });
    assert.deepEqual(list.userInfoList, [{ userId: alice.userId, userRole: 'roomOwner' }]);
    assert.deepEqual(await alice.exitRoom({ roomId }), {});
    assert.deepEqual(alice.rooms, []);
  });

  test('rejects with the Tencent code of the error', async () => {
    const bob = track(await connectAs(unique('bob')));
    await assert.rejects(bob.fetchRoomInfo({ roomId: unique('nowhere') }), (err) => {
      assert.ok(err instanceof RoomdError);
      assert.ok(err instanceof Error);
      assert.equal(err.code, 100004);
      assert.equal(err.method, 'fetchRoomInfo');
      assert.match(err.message, /room/);
      return true;
    });
    await assert.rejects(bob.sendTextMessage({ roomId: unique('r'), text: 'hi' }), { code: 100005 });
    await assert.rejects(bob.call('noSuchMethod', {}), { code: -32601 });
    await assert.rejects(bob.enterRoom({ roomId: 'x'.repeat(49) }), { code: 100002 });
  });

  test('a refused connection rejects with the server code', async () => {
    await assert.rejects(connectAs('mallory', { userSig: userSig('mallory', { key: 'not-the-key' }) }), (err) => {
      assert.ok(err instanceof RoomdError);
      assert.equal(err.httpStatus, 401);
      assert.ok(err.code >= 70001 && err.code <= 70020, `code ${err.code}`);
      return true;
    });
    await assert.rejects(connect({ url: env.url, sdkAppId: 1, userId: 'u', userSig: 'x', WebSocket: env.WebSocket }), { httpStatus: 403, code: 70020 });
  });

  test('pushes arrive: entries, messages, seats', async () => {
    const roomId = unique('r');
    const alice = track(await connectAs(unique('alice')));
    const bob = track(await connectAs(unique('bob')));
    const a = recorder(alice, ['onRemoteUserEnterRoom', 'onReceiveTextMessage', 'onSeatListChanged', 'push']);
    await alice.createRoom({ roomId, isSeatEnabled: true });
    await alice.enterRoom({ roomId });
    await bob.enterRoom({ roomId });
    const entered = await a.waitFor('onRemoteUserEnterRoom');
    assert.deepEqual(entered, { roomId, userInfo: { userId: bob.userId } });
    const sent = await bob.sendTextMessage({ roomId, text: 'hello' });
    assert.equal(typeof sent.messageSeq, 'number');
    const msg = await a.waitFor('onReceiveTextMessage');
    assert.equal(msg.message.text, 'hello');
    assert.equal(msg.message.userId, bob.userId);
    const seat = await bob.takeSeat({ roomId, seatIndex: -1 });
    assert.equal(typeof seat.seatIndex, 'number');
    const seats = await a.waitFor('onSeatListChanged');
    assert.equal(seats.seatList[seat.seatIndex].userId, bob.userId);
    assert.ok(a.events('push').some((p) => p.method === 'onReceiveTextMessage' && p.params.roomId === roomId));
  });

  test('an ownership transfer is seen by both clients', async () => {
    const roomId = unique('r');
    const alice = track(await connectAs(unique('alice')));
    const bob = track(await connectAs(unique('bob')));
    await alice.createRoom({ roomId });
    await alice.enterRoom({ roomId });
    await bob.enterRoom({ roomId });
    const seen = { [alice.userId]: [], [bob.userId]: [] };
    for (const c of [alice, bob]) c.on('onUserRoleChanged', (e) => seen[c.userId].push(e));
    // Only the owner transfers the room: bob may not.
    await assert.rejects(bob.changeUserRole({ roomId, userId: bob.userId, role: 'roomOwner' }), { code: 100006 });
    assert.deepEqual(await alice.changeUserRole({ roomId, userId: bob.userId, role: 'roomOwner' }), {});
    const want = [
      { roomId, userId: bob.userId, userRole: 'roomOwner' },
      { roomId, userId: alice.userId, userRole: 'generalUser' },
    ];
    // The caller gets the pushes of its change before its response.
    assert.deepEqual(seen[alice.userId], want);
    await waitFor(() => seen[bob.userId].length === 2, 'bob to see both role changes');
    assert.deepEqual(seen[bob.userId], want);
    assert.equal((await bob.fetchRoomInfo({ roomId })).roomInfo.ownerId, bob.userId);
  });

  test('off and once remove listeners', async () => {
    const roomId = unique('r');
    const alice = track(await connectAs(unique('alice')));
    const bob = track(await connectAs(unique('bob')));
    await alice.createRoom({ roomId });
    await alice.enterRoom({ roomId });
    await bob.enterRoom({ roomId });
    let all = 0;
    let one = 0;
    const fn = () => { all++; };
    alice.on('onReceiveTextMessage', fn);
    alice.once('onReceiveTextMessage', () => { one++; });
    const last = alice.on('onReceiveTextMessage', () => {});
    await bob.sendTextMessage({ roomId, text: '1' });
    await waitFor(() => all === 1, 'the first message');
    alice.off('onReceiveTextMessage', fn);
    last();
    const got = recorder(alice, ['onReceiveTextMessage']);
    await bob.sendTextMessage({ roomId, text: '2' });
    await got.waitFor('onReceiveTextMessage');
    assert.equal(all, 1);
    assert.equal(one, 1);
  });

  describe('reconnecting', () => {
    let backend;
    before(async () => {
      backend = await receiver();
      await rest('live_config/set_callback', { Url: backend.url, CallbackCommandList: ['Live.CallbackAfterMemberStateChanged'] });
    });
    after(async () => {
      await rest('live_config/set_callback', { Url: '', CallbackCommandList: [] }).catch(() => {});
      await backend.close();
    });

    const states = (roomId, userId) => backend.callbacks
      .filter((c) => c.command === 'Live.CallbackAfterMemberStateChanged' && c.body.RoomId === roomId &&
        c.body.MemberList.some((m) => m.Member_Account === userId))
      .map((c) => `${c.body.EventType}/${c.body.EventCause}`);

    test('comes back into its rooms after the connection breaks (HeartbeatRecover)', async () => {
      const net = await proxy();
      try {
        const roomId = unique('r');
        const owner = track(await connectAs(unique('owner')));
        await owner.createRoom({ roomId });
        await owner.enterRoom({ roomId });
        const o = recorder(owner, ['onRemoteUserLeaveRoom', 'onRemoteUserEnterRoom', 'onReceiveTextMessage']);
        const carol = track(await connectAs(unique('carol'), { url: net.url, reconnect: { initialDelay: 200, maxDelay: 1000 } }));
        const c = recorder(carol, ['reconnecting', 'reconnected', 'open', 'close']);
        await carol.enterRoom({ roomId });
        await waitFor(() => states(roomId, carol.userId).length === 1, 'Online/Enter');

        net.drop();
        const r = await c.waitFor('reconnecting');
        assert.equal(r.attempt, 1);
        assert.ok(r.delay >= 100 && r.delay <= 200, `delay ${r.delay}`);
        const back = await c.waitFor('reconnected');
        assert.deepEqual(back.rooms, [roomId]);
        assert.deepEqual(back.failed, []);
        assert.equal(carol.state, 'open');
        assert.ok(c.events('open').some((e) => e.reconnect));
        assert.equal(c.events('close').length, 0);

        // The App backend saw the heartbeat lost, then recovered; the owner saw carol
        // leave and come back.
        await waitFor(() => states(roomId, carol.userId).length === 3, 'three presence callbacks');
        assert.deepEqual(states(roomId, carol.userId), ['Online/Enter', 'Offline/HeartbeatInterrupt', 'Online/HeartbeatRecover']);
        await o.waitFor('onRemoteUserLeaveRoom', (e) => e.userInfo.userId === carol.userId);
        await o.waitFor('onRemoteUserEnterRoom', (e) => e.userInfo.userId === carol.userId);

        // carol is in the room again: entered methods work.
        await carol.sendTextMessage({ roomId, text: 'back' });
        await o.waitFor('onReceiveTextMessage', (e) => e.message.text === 'back');
      } finally {
        await net.close();
      }
    });

    test('detects a dead connection by its own heartbeat', async () => {
      const net = await proxy();
      try {
        const roomId = unique('r');
        const owner = track(await connectAs(unique('owner')));
        await owner.createRoom({ roomId });
        const dave = track(await connectAs(unique('dave'), {
          url: net.url, heartbeatInterval: 300, heartbeatTimeout: 300, reconnect: { initialDelay: 100, maxDelay: 200 },
        }));
        const d = recorder(dave, ['reconnecting', 'reconnected']);
        await dave.enterRoom({ roomId });
        // A quiet connection stays up: the probe is answered.
        await new Promise((r) => setTimeout(r, 900));
        assert.equal(d.events('reconnecting').length, 0);
        net.freeze();
        const r = await d.waitFor('reconnecting');
        assert.equal(r.code, 4000);
        assert.match(r.reason, /heartbeat/);
        net.freeze(false);
        const back = await d.waitFor('reconnected');
        assert.deepEqual(back.rooms, [roomId]);
        const users = await owner.getUserList({ roomId });
        assert.ok(users.userInfoList.some((u) => u.userId === dave.userId));
      } finally {
        await net.close();
      }
    });

    test('rooms the client was put out of are not entered again', async () => {
      const net = await proxy();
      try {
        const gone = unique('r');
        const kept = unique('r');
        const erin = track(await connectAs(unique('erin'), { url: net.url, reconnect: { initialDelay: 100, maxDelay: 200 } }));
        const e = recorder(erin, ['onRoomDismissed', 'reconnected']);
        await erin.createRoom({ roomId: gone });
        await erin.createRoom({ roomId: kept });
        await erin.enterRoom({ roomId: gone });
        await erin.enterRoom({ roomId: kept });
        await rest('live_engine_http_srv/destroy_room', { RoomId: gone });
        await e.waitFor('onRoomDismissed');
        assert.deepEqual(erin.rooms, [kept]);
        net.drop();
        const back = await e.waitFor('reconnected');
        assert.deepEqual(back.rooms, [kept]);
      } finally {
        await net.close();
      }
    });
  });

  test('close() ends the client: pending and later calls are rejected, no reconnect', async () => {
    const frank = await connectAs(unique('frank'));
    const c = recorder(frank, ['close', 'reconnecting']);
    const roomId = unique('r');
    await frank.createRoom({ roomId });
    const pending = frank.enterRoom({ roomId });
    const closed = frank.close();
    await assert.rejects(pending, { code: ErrorCode.CLOSED });
    await closed;
    assert.equal(frank.state, 'closed');
    assert.deepEqual(c.events('close'), [{ code: 1000, reason: '', byClient: true }]);
    await assert.rejects(frank.fetchRoomInfo({ roomId }), { code: ErrorCode.CLOSED });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(c.events('reconnecting').length, 0);
  });

  test('a call times out', async () => {
    const net = await proxy();
    try {
      const gina = track(await connectAs(unique('gina'), { url: net.url, callTimeout: 200, heartbeatInterval: 0 }));
      net.freeze();
      await assert.rejects(gina.createRoom({ roomId: unique('r') }), { code: ErrorCode.TIMEOUT, method: 'createRoom' });
    } finally {
      await net.close();
    }
  });

  test('the UserSig may be a function, called at every connect', async () => {
    const user = unique('hana');
    let calls = 0;
    const hana = track(await connect({ url: env.url, sdkAppId: String(env.sdkAppId), userId: user, userSig: async () => { calls++; return userSig(user); }, WebSocket: env.WebSocket }));
    assert.equal(calls, 1);
    assert.equal(hana.sdkAppId, env.sdkAppId);
  });
});
