-- roomd schema, version 1: accounts, rooms, callback configuration, the outbox and its attempts.
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE accounts (
	sdkappid   INTEGER NOT NULL,
	user_id    TEXT    NOT NULL,
	nick       TEXT    NOT NULL DEFAULT '',
	face_url   TEXT    NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	PRIMARY KEY (sdkappid, user_id)
) WITHOUT ROWID;

CREATE TABLE rooms (
	sdkappid       INTEGER NOT NULL,
	room_id        TEXT    NOT NULL,
	owner          TEXT    NOT NULL,
	created_at     INTEGER NOT NULL,
	view_count     INTEGER NOT NULL DEFAULT 0,
	public_visible INTEGER NOT NULL DEFAULT 1,
	info           BLOB    NOT NULL,
	PRIMARY KEY (sdkappid, room_id)
) WITHOUT ROWID;

CREATE INDEX rooms_list ON rooms (sdkappid, view_count DESC, created_at, room_id);

CREATE TABLE callback_configs (
	sdkappid      INTEGER PRIMARY KEY,
	url           TEXT    NOT NULL,
	commands      TEXT    NOT NULL,
	token         TEXT    NOT NULL DEFAULT '',
	token_enabled INTEGER NOT NULL DEFAULT 0,
	updated_at    INTEGER NOT NULL
);

CREATE TABLE events (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	sdkappid        INTEGER NOT NULL,
	room_id         TEXT    NOT NULL,
	command         TEXT    NOT NULL,
	body            BLOB    NOT NULL,
	client_ip       TEXT    NOT NULL DEFAULT '',
	platform        TEXT    NOT NULL DEFAULT '',
	created_at      INTEGER NOT NULL,
	state           TEXT    NOT NULL,
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	last_error      TEXT    NOT NULL DEFAULT '',
	delivered_at    INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX events_undelivered ON events (id) WHERE state IN ('pending', 'retrying');
CREATE INDEX events_by_app ON events (sdkappid, id);

CREATE TABLE attempts (
	event_id    INTEGER NOT NULL,
	n           INTEGER NOT NULL,
	started_at  INTEGER NOT NULL,
	duration_us INTEGER NOT NULL,
	url         TEXT    NOT NULL,
	status_code INTEGER NOT NULL,
	response    TEXT    NOT NULL,
	error       TEXT    NOT NULL,
	PRIMARY KEY (event_id, n)
) WITHOUT ROWID;
