-- roomd schema, version 3: room admins, mutes, bans and message history (the people and
-- message APIs). Every table is keyed by (sdkappid, room_id, ...); the trigger at the end
-- empties them when their room is deleted, so a room created again with the same id starts
-- with no admins, mutes, bans or history.

-- room_admins holds the admins of a room (modify_admin); seq keeps them in the order added.
CREATE TABLE room_admins (
	sdkappid   BIGINT NOT NULL,
	room_id    TEXT    NOT NULL,
	user_id    TEXT    NOT NULL,
	created_at BIGINT NOT NULL,
	seq        BIGINT NOT NULL,
	PRIMARY KEY (sdkappid, room_id, user_id)
);

-- room_mutes holds chat bans (mute_member). A row whose muted_until lies at or before the
-- clock is expired: it is ignored by every query and overwritten or deleted lazily.
CREATE TABLE room_mutes (
	sdkappid    BIGINT NOT NULL,
	room_id     TEXT    NOT NULL,
	user_id     TEXT    NOT NULL,
	muted_until BIGINT NOT NULL,
	created_at  BIGINT NOT NULL,
	PRIMARY KEY (sdkappid, room_id, user_id)
);

-- room_bans keeps users out of a room (ban_member); expired rows are ignored as above.
CREATE TABLE room_bans (
	sdkappid     BIGINT NOT NULL,
	room_id      TEXT    NOT NULL,
	user_id      TEXT    NOT NULL,
	banned_until BIGINT NOT NULL,
	reason       TEXT    NOT NULL DEFAULT '',
	created_at   BIGINT NOT NULL,
	PRIMARY KEY (sdkappid, room_id, user_id)
);

CREATE INDEX room_bans_by_time ON room_bans (sdkappid, room_id, created_at, user_id);

-- room_msg_seq is the last message sequence number handed out per room.
CREATE TABLE room_msg_seq (
	sdkappid BIGINT NOT NULL,
	room_id  TEXT    NOT NULL,
	last_seq BIGINT NOT NULL,
	PRIMARY KEY (sdkappid, room_id)
);

-- room_messages is a room's message history. msg_body is the MsgBody JSON array.
CREATE TABLE room_messages (
	sdkappid          BIGINT NOT NULL,
	room_id           TEXT    NOT NULL,
	seq               BIGINT NOT NULL,
	sender            TEXT    NOT NULL,
	msg_time          BIGINT NOT NULL,
	msg_body          TEXT    NOT NULL,
	cloud_custom_data TEXT    NOT NULL DEFAULT '',
	random            BIGINT NOT NULL,
	msg_id            TEXT    NOT NULL,
	PRIMARY KEY (sdkappid, room_id, seq)
);

CREATE FUNCTION rooms_delete_people() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM room_admins   WHERE sdkappid = OLD.sdkappid AND room_id = OLD.room_id;
	DELETE FROM room_mutes    WHERE sdkappid = OLD.sdkappid AND room_id = OLD.room_id;
	DELETE FROM room_bans     WHERE sdkappid = OLD.sdkappid AND room_id = OLD.room_id;
	DELETE FROM room_msg_seq  WHERE sdkappid = OLD.sdkappid AND room_id = OLD.room_id;
	DELETE FROM room_messages WHERE sdkappid = OLD.sdkappid AND room_id = OLD.room_id;
	RETURN NULL;
END;
$$;

CREATE TRIGGER rooms_delete_people AFTER DELETE ON rooms
	FOR EACH ROW EXECUTE FUNCTION rooms_delete_people();
