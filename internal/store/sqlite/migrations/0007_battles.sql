-- roomd schema, version 7: battles (PK) between rooms and the rooms' mix stream
-- configuration. A battle's rows are kept when a room in it is deleted (get_battle_info
-- still answers for it); a room's mix stream configuration goes with the room (trigger at
-- the end). due_at is a battle's one timer (0 when none): the end of the invited rooms' time
-- to answer while it is requested, its end while it runs; it survives a restart.

CREATE TABLE battles (
	sdkappid       INTEGER NOT NULL,
	battle_id      TEXT    NOT NULL,
	from_room_id   TEXT    NOT NULL,
	operator       TEXT    NOT NULL,
	duration_ms    INTEGER NOT NULL,
	timeout_ms     INTEGER NOT NULL,
	need_response  INTEGER NOT NULL,
	extension_info TEXT    NOT NULL,
	status         INTEGER NOT NULL,
	end_type       INTEGER NOT NULL,
	created_at     INTEGER NOT NULL,
	started_at     INTEGER NOT NULL,
	ended_at       INTEGER NOT NULL,
	due_at         INTEGER NOT NULL,
	PRIMARY KEY (sdkappid, battle_id)
) WITHOUT ROWID;

CREATE INDEX battles_by_due ON battles (due_at) WHERE due_at > 0;

CREATE TABLE battle_rooms (
	sdkappid  INTEGER NOT NULL,
	battle_id TEXT    NOT NULL,
	room_id   TEXT    NOT NULL,
	owner     TEXT    NOT NULL,
	position  INTEGER NOT NULL,
	state     TEXT    NOT NULL,
	score     INTEGER NOT NULL,
	PRIMARY KEY (sdkappid, battle_id, room_id)
) WITHOUT ROWID;

CREATE INDEX battle_rooms_by_room ON battle_rooms (sdkappid, room_id, state);

CREATE TABLE room_mix_streams (
	sdkappid   INTEGER NOT NULL,
	room_id    TEXT    NOT NULL,
	config     BLOB    NOT NULL,
	updated_at INTEGER NOT NULL,
	resumes    INTEGER NOT NULL,
	resumed_at INTEGER NOT NULL,
	PRIMARY KEY (sdkappid, room_id)
) WITHOUT ROWID;

CREATE TRIGGER rooms_delete_mix_stream AFTER DELETE ON rooms
BEGIN
	DELETE FROM room_mix_streams WHERE sdkappid = OLD.sdkappid AND room_id = OLD.room_id;
END;
