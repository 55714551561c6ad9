-- roomd schema, version 11: several roomd nodes on one database (docs/architecture.md,
-- "Several nodes"). The times of nodes and leases are the database's clock (now()), so that
-- nodes with skewed clocks agree on who is alive and who holds what.

-- nodes holds the live roomd processes; a node's row expires unless it beats. A dead node's
-- row is deleted by the one node that claims it (store.Cluster.NodeClaimDead).
CREATE TABLE nodes (
	id         TEXT PRIMARY KEY,
	started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
	expires_at TIMESTAMPTZ NOT NULL
);

-- leases are the cluster-wide roles that one node at a time holds (timers, retention, …).
CREATE TABLE leases (
	name       TEXT PRIMARY KEY,
	node       TEXT NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL
);

-- broadcasts carry room events from the node that committed them to the clients of the
-- other nodes. Ids are assigned in commit order (see the write lock of package postgres).
CREATE TABLE broadcasts (
	id         BIGSERIAL PRIMARY KEY,
	sdkappid   BIGINT NOT NULL,
	room_id    TEXT   NOT NULL,
	origin     TEXT   NOT NULL,
	kind       TEXT   NOT NULL,
	body       BYTEA  NOT NULL,
	created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX broadcasts_by_created ON broadcasts (created_at);

-- room_members.node is the node whose client connection made the user a member ('' on a
-- single node and for members added through REST): when that node dies, its members are
-- seen as having lost their heartbeat.
ALTER TABLE room_members ADD COLUMN node TEXT NOT NULL DEFAULT '';
CREATE INDEX room_members_by_node ON room_members (node, sdkappid, room_id, user_id) WHERE is_robot = 0;
