-- roomd schema, version 4: live presence. A member connected through the client API is a
-- room_members row (is_robot = 0) while it is online; when every connection of it lost its
-- heartbeat it moves to room_lost_members until it recovers or its grace period ends.
-- room_timers holds the automatic dissolution timers of rooms. Both are emptied for a room
-- by RoomDelete (the trigger below).

CREATE TABLE room_lost_members (
	sdkappid BIGINT NOT NULL,
	room_id  TEXT    NOT NULL,
	user_id  TEXT    NOT NULL,
	lost_at  BIGINT NOT NULL,
	PRIMARY KEY (sdkappid, room_id, user_id)
);

CREATE INDEX room_lost_members_by_time ON room_lost_members (lost_at);

CREATE TABLE room_timers (
	sdkappid BIGINT NOT NULL,
	room_id  TEXT    NOT NULL,
	kind     TEXT    NOT NULL,
	due_at   BIGINT NOT NULL,
	PRIMARY KEY (sdkappid, room_id, kind)
);

CREATE INDEX room_timers_by_due ON room_timers (due_at);

CREATE FUNCTION rooms_delete_presence() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM room_lost_members WHERE sdkappid = OLD.sdkappid AND room_id = OLD.room_id;
	DELETE FROM room_timers       WHERE sdkappid = OLD.sdkappid AND room_id = OLD.room_id;
	RETURN NULL;
END;
$$;

CREATE TRIGGER rooms_delete_presence AFTER DELETE ON rooms
	FOR EACH ROW EXECUTE FUNCTION rooms_delete_presence();
