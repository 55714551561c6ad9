// Package room is roomd's domain: rooms, their owner, admins, members, metadata, mutes,
// bans, robots and messages. Both doors call it — the REST API as an App admin, the client
// API as the connected user — so every rule (validation, permissions, limits, which
// callback a change fires) is decided here once.
//
// # Changes and events
//
// Every operation runs in one store transaction. The change and its After-callback are
// written together (the transactional outbox of package webhook): a callback exists if and
// only if its change committed. The same change is published as a typed Event (events.go)
// to the service's Observer after the transaction commits, in commit order; the client
// API's hub turns events into pushes. Callback bodies are built from events in one place
// (callbacks.go).
//
// # Permissions
//
// Roles are ordered App admin > owner > room admin > member (permission.go). REST calls act
// as the App admin. On the client, only the owner transfers ownership (to a user in the
// room); owner and admins manage members, metadata and room information; nobody acts on
// the owner, and a room admin acts only on ordinary members. A refusal is ErrNoPermission
// (100006).
//
// # Live presence
//
// A user is in a room through client connections (live.go). For one user in one room the
// states are:
//
//	absent ──enter──▶ online ──last connection exits / closes cleanly──▶ absent   (Offline/Leave)
//	                  online ──last connection loses its heartbeat──▶ lost         (Offline/HeartbeatInterrupt)
//	                  lost   ──enter within the grace period──▶ online             (Online/HeartbeatRecover)
//	                  lost   ──grace period ends──▶ absent                          (no callback)
//	online or lost ──kick or ban──▶ absent   (Offline/Kicked when online; nothing more when lost)
//	absent ──enter──▶ online                                                        (Online/Enter)
//
// so the presence callbacks of one user in one room strictly alternate Online, Offline,
// starting with Online, whatever the order of quick reconnects, several devices, kicks and
// heartbeats: an App backend counting them never goes negative. Robots take no part: they
// have no Online callback, so removing one (kick, ban, del_robot) reports no Offline, and a
// user entering under the id of a robot already in the room is reported neither entering
// nor leaving. Several connections of one
// user count once: only the first entering and the last leaving change the state.
// Transitions of one room are serialised by a per-room lock and take effect in the
// process's connection registry only in the AfterCommit hook of their transaction, so
// clients' pushes tell the same story in the same order as the callbacks. Online members
// are room_members rows; lost ones are room_lost_members rows (so a restart keeps them).
// At start-up, RecoverPresence moves the people of the previous process from online to
// lost: their clients may reconnect within the grace period.
//
// On several nodes sharing one database (cluster.go), each node has its own registry; a
// member row names the node whose connection made the user a member, and only that node's
// last connection leaving is a departure. A first connection on another node takes the row
// over without a callback. When a node dies, RecoverNode moves the members it held from
// online to lost, exactly as RecoverPresence does for a previous process.
//
// # Automatic dissolution
//
// An app may set Lifetimes (Tencent's LifetimeAfterNoUsers, LifetimeAfterOwnerLeave,
// LifetimeAfterOwnerOffline). Leaving, losing the heartbeat or being kicked sets a timer in
// the room_timers table; entering again clears it. RunDue dissolves a room whose timer is
// due and whose reason still holds — never a room with a robot in it — with
// Live.CallbackAfterDestroyRoom (EventType DestroyBySystem, Operator_Account @TIM#SYSTEM)
// and onRoomDismissed to the members. Timers are database rows, so they survive a restart.
package room
