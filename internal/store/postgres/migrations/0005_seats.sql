-- roomd schema, version 5: seats. room_seats holds the seats of a room that are occupied or
-- locked (an empty, unlocked seat has no row); the partial unique index keeps one user on at
-- most one seat of a room. room_seat_requests holds pending applications to take a seat
-- (TakeSeatMode ApplyToTake), at most one per user and room. Both are emptied for a room by
-- RoomDelete (the trigger below).

CREATE TABLE room_seats (
	sdkappid     BIGINT NOT NULL,
	room_id      TEXT    NOT NULL,
	seat_index   BIGINT NOT NULL,
	user_id      TEXT    NOT NULL DEFAULT '',
	locked       BIGINT NOT NULL DEFAULT 0,
	video_locked BIGINT NOT NULL DEFAULT 0,
	audio_locked BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (sdkappid, room_id, seat_index)
);

CREATE UNIQUE INDEX room_seats_one_per_user ON room_seats (sdkappid, room_id, user_id) WHERE user_id <> '';

CREATE TABLE room_seat_requests (
	sdkappid   BIGINT NOT NULL,
	room_id    TEXT    NOT NULL,
	request_id TEXT    NOT NULL,
	user_id    TEXT    NOT NULL,
	seat_index BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL, -- 0: never
	PRIMARY KEY (sdkappid, room_id, request_id)
);

CREATE UNIQUE INDEX room_seat_requests_one_per_user ON room_seat_requests (sdkappid, room_id, user_id);
CREATE INDEX room_seat_requests_by_expiry ON room_seat_requests (expires_at) WHERE expires_at > 0;

CREATE FUNCTION rooms_delete_seats() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM room_seats         WHERE sdkappid = OLD.sdkappid AND room_id = OLD.room_id;
	DELETE FROM room_seat_requests WHERE sdkappid = OLD.sdkappid AND room_id = OLD.room_id;
	RETURN NULL;
END;
$$;

CREATE TRIGGER rooms_delete_seats AFTER DELETE ON rooms
	FOR EACH ROW EXECUTE FUNCTION rooms_delete_seats();
