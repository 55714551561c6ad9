-- roomd schema, version 7: battles (PK) between rooms and the rooms' mix stream
-- configuration. A battle's rows are kept when a room in it is deleted (get_battle_info
-- still answers for it); a room's mix stream configuration goes with the room (trigger at
-- the end). due_at is a battle's one timer (0 when none): the end of the invited rooms' time
-- to answer while it is requested, its end while it runs; it survives a restart.

CREATE TABLE battles (
	sdkappid       BIGINT NOT NULL,
	battle_id      TEXT    NOT NULL,
	from_room_id   TEXT    NOT NULL,
	operator       TEXT    NOT NULL,
	duration_ms    BIGINT NOT NULL,
	timeout_ms     BIGINT NOT NULL,
	need_response  BIGINT NOT NULL,
	extension_info TEXT    NOT NULL,
	status         BIGINT NOT NULL,
	end_type       BIGINT NOT NULL,
	created_at     BIGINT NOT NULL,
	started_at     BIGINT NOT NULL,
	ended_at       BIGINT NOT NULL,
	due_at         BIGINT NOT NULL,
	PRIMARY KEY (sdkappid, battle_id)
);

CREATE INDEX battles_by_due ON battles (due_at) WHERE due_at > 0;

CREATE TABLE battle_rooms (
	sdkappid  BIGINT NOT NULL,
	battle_id TEXT    NOT NULL,
	room_id   TEXT    NOT NULL,
	owner     TEXT    NOT NULL,
	position  BIGINT NOT NULL,
	state     TEXT    NOT NULL,
	score     BIGINT NOT NULL,
	PRIMARY KEY (sdkappid, battle_id, room_id)
);

CREATE INDEX battle_rooms_by_room ON battle_rooms (sdkappid, room_id, state);

CREATE TABLE room_mix_streams (
	sdkappid   BIGINT NOT NULL,
	room_id    TEXT    NOT NULL,
	config     BYTEA    NOT NULL,
	updated_at BIGINT NOT NULL,
	resumes    BIGINT NOT NULL,
	resumed_at BIGINT NOT NULL,
	PRIMARY KEY (sdkappid, room_id)
);

CREATE FUNCTION rooms_delete_mix_stream() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM room_mix_streams WHERE sdkappid = OLD.sdkappid AND room_id = OLD.room_id;
	RETURN NULL;
END;
$$;

CREATE TRIGGER rooms_delete_mix_stream AFTER DELETE ON rooms
	FOR EACH ROW EXECUTE FUNCTION rooms_delete_mix_stream();
