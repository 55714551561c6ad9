-- roomd schema, version 8: account profile fields beyond nick and face URL (portrait_set)
-- and follow relations (follow_add). Both are emptied for an account when it is deleted
-- (the trigger at the end), so an account imported again starts with no profile fields,
-- follows or followers.

-- profile_tags holds one profile field of an account; value is its JSON value.
CREATE TABLE profile_tags (
	sdkappid BIGINT NOT NULL,
	user_id  TEXT    NOT NULL,
	tag      TEXT    NOT NULL,
	value    TEXT    NOT NULL,
	PRIMARY KEY (sdkappid, user_id, tag)
);

-- follows holds who follows whom: follower follows followee since created_at.
CREATE TABLE follows (
	sdkappid   BIGINT NOT NULL,
	follower   TEXT    NOT NULL,
	followee   TEXT    NOT NULL,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (sdkappid, follower, followee)
);

CREATE INDEX follows_by_follower_time ON follows (sdkappid, follower, created_at, followee);
CREATE INDEX follows_by_followee_time ON follows (sdkappid, followee, created_at, follower);

-- A retried group message (send_group_msg with the same Random) is found by its Random.
CREATE INDEX room_messages_by_random ON room_messages (sdkappid, room_id, random);

CREATE FUNCTION accounts_delete_profile_follows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM profile_tags WHERE sdkappid = OLD.sdkappid AND user_id = OLD.user_id;
	DELETE FROM follows WHERE sdkappid = OLD.sdkappid AND (follower = OLD.user_id OR followee = OLD.user_id);
	RETURN NULL;
END;
$$;

CREATE TRIGGER accounts_delete_profile_follows AFTER DELETE ON accounts
	FOR EACH ROW EXECUTE FUNCTION accounts_delete_profile_follows();
