-- roomd schema, version 6: gifts. An app's gift configuration (gifts, categories, their
-- localisations, which gifts each category holds) is app-wide; seq keeps gifts, categories
-- and a category's gifts in the order they were added. The gift tallies of rooms
-- (get_gift_count, the unique senders of get_room_stats) are emptied with their room by the
-- trigger at the end, so a room created again with the same id starts from zero.

CREATE TABLE gifts (
	sdkappid       BIGINT NOT NULL,
	gift_id        TEXT    NOT NULL,
	icon_url       TEXT    NOT NULL DEFAULT '',
	resource_url   TEXT    NOT NULL DEFAULT '',
	coins          BIGINT NOT NULL,
	level          BIGINT NOT NULL DEFAULT 0,
	extension_info TEXT    NOT NULL DEFAULT '',
	default_name   TEXT    NOT NULL,
	default_desc   TEXT    NOT NULL DEFAULT '',
	created_at     BIGINT NOT NULL,
	seq            BIGINT NOT NULL,
	PRIMARY KEY (sdkappid, gift_id)
);

CREATE TABLE gift_languages (
	sdkappid BIGINT NOT NULL,
	gift_id  TEXT    NOT NULL,
	language TEXT    NOT NULL,
	name     TEXT    NOT NULL,
	descr    TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (sdkappid, gift_id, language)
);

CREATE TABLE gift_categories (
	sdkappid       BIGINT NOT NULL,
	category_id    TEXT    NOT NULL,
	extension_info TEXT    NOT NULL DEFAULT '',
	default_name   TEXT    NOT NULL,
	default_desc   TEXT    NOT NULL DEFAULT '',
	created_at     BIGINT NOT NULL,
	seq            BIGINT NOT NULL,
	PRIMARY KEY (sdkappid, category_id)
);

CREATE TABLE gift_category_languages (
	sdkappid    BIGINT NOT NULL,
	category_id TEXT    NOT NULL,
	language    TEXT    NOT NULL,
	name        TEXT    NOT NULL,
	descr       TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (sdkappid, category_id, language)
);

CREATE TABLE gift_category_gifts (
	sdkappid    BIGINT NOT NULL,
	category_id TEXT    NOT NULL,
	gift_id     TEXT    NOT NULL,
	seq         BIGINT NOT NULL,
	PRIMARY KEY (sdkappid, category_id, gift_id)
);

CREATE INDEX gift_category_gifts_by_gift ON gift_category_gifts (sdkappid, gift_id);

-- room_gift_seq is the number of gifts sent in a room (get_gift_count's Sequence).
CREATE TABLE room_gift_seq (
	sdkappid BIGINT NOT NULL,
	room_id  TEXT    NOT NULL,
	last_seq BIGINT NOT NULL,
	PRIMARY KEY (sdkappid, room_id)
);

-- room_gift_tallies is what each receiver got from each sender in a room.
CREATE TABLE room_gift_tallies (
	sdkappid BIGINT NOT NULL,
	room_id  TEXT    NOT NULL,
	receiver TEXT    NOT NULL,
	sender   TEXT    NOT NULL,
	count    BIGINT NOT NULL,
	coins    BIGINT NOT NULL,
	PRIMARY KEY (sdkappid, room_id, receiver, sender)
);

CREATE INDEX room_gift_tallies_by_sender ON room_gift_tallies (sdkappid, room_id, sender);

CREATE FUNCTION rooms_delete_gifts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM room_gift_seq     WHERE sdkappid = OLD.sdkappid AND room_id = OLD.room_id;
	DELETE FROM room_gift_tallies WHERE sdkappid = OLD.sdkappid AND room_id = OLD.room_id;
	RETURN NULL;
END;
$$;

CREATE TRIGGER rooms_delete_gifts AFTER DELETE ON rooms
	FOR EACH ROW EXECUTE FUNCTION rooms_delete_gifts();
