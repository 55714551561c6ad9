-- roomd schema, version 5: seats. room_seats holds the seats of a room that are occupied or
-- locked (an empty, unlocked seat has no row); the partial unique index keeps one user on at
-- most one seat of a room. room_seat_requests holds pending applications to take a seat
-- (TakeSeatMode ApplyToTake), at most one per user and room. Both are emptied for a room by
-- RoomDelete (the trigger below).

CREATE TABLE room_seats (
	sdkappid     INTEGER NOT NULL,
	room_id      TEXT    NOT NULL,
	seat_index   INTEGER NOT NULL,
	user_id      TEXT    NOT NULL DEFAULT '',
	locked       INTEGER NOT NULL DEFAULT 0,
	video_locked INTEGER NOT NULL DEFAULT 0,
	audio_locked INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (sdkappid, room_id, seat_index)
) WITHOUT ROWID;

CREATE UNIQUE INDEX room_seats_one_per_user ON room_seats (sdkappid, room_id, user_id) WHERE user_id <> '';

CREATE TABLE room_seat_requests (
	sdkappid   INTEGER NOT NULL,
	room_id    TEXT    NOT NULL,
	request_id TEXT    NOT NULL,
	user_id    TEXT    NOT NULL,
	seat_index INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL, -- 0: never
	PRIMARY KEY (sdkappid, room_id, request_id)
) WITHOUT ROWID;

CREATE UNIQUE INDEX room_seat_requests_one_per_user ON room_seat_requests (sdkappid, room_id, user_id);
CREATE INDEX room_seat_requests_by_expiry ON room_seat_requests (expires_at) WHERE expires_at > 0;

CREATE TRIGGER rooms_delete_seats AFTER DELETE ON rooms
BEGIN
	DELETE FROM room_seats         WHERE sdkappid = OLD.sdkappid AND room_id = OLD.room_id;
	DELETE FROM room_seat_requests WHERE sdkappid = OLD.sdkappid AND room_id = OLD.room_id;
END;
