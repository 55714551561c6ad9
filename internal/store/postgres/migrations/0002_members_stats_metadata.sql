-- roomd schema, version 2: room members (robots included), room statistics counters and room
-- metadata. Every table is keyed by (sdkappid, room_id, ...) and is emptied for a room by
-- RoomDelete.

-- room_members holds who is in a room. Robots (add_robot) are members with is_robot = 1; the
-- people APIs (get_member_list, bans) build on the same table.
CREATE TABLE room_members (
	sdkappid  BIGINT NOT NULL,
	room_id   TEXT    NOT NULL,
	user_id   TEXT    NOT NULL,
	is_robot  BIGINT NOT NULL DEFAULT 0,
	joined_at BIGINT NOT NULL,
	PRIMARY KEY (sdkappid, room_id, user_id)
);

CREATE INDEX room_members_by_join ON room_members (sdkappid, room_id, joined_at, user_id);

-- room_stats holds a room's cumulative counters (get_room_stats). TotalViewers is the room's
-- view_count column, so it is not repeated here. A missing row means all zero.
CREATE TABLE room_stats (
	sdkappid                  BIGINT NOT NULL,
	room_id                   TEXT    NOT NULL,
	total_gifts_sent          BIGINT NOT NULL DEFAULT 0,
	total_gift_coins          BIGINT NOT NULL DEFAULT 0,
	total_unique_gift_senders BIGINT NOT NULL DEFAULT 0,
	total_likes_received      BIGINT NOT NULL DEFAULT 0,
	total_msg_count           BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (sdkappid, room_id)
);

-- room_metadata is the per-room key/value store (set/get/del_room_metadata). seq keeps keys
-- in the order they were first set.
CREATE TABLE room_metadata (
	sdkappid BIGINT NOT NULL,
	room_id  TEXT    NOT NULL,
	key      TEXT    NOT NULL,
	value    TEXT    NOT NULL,
	seq      BIGINT NOT NULL,
	PRIMARY KEY (sdkappid, room_id, key)
);
