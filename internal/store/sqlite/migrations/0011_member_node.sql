-- roomd schema, version 11: the node whose client connection made a user a member. SQLite
-- runs a single node, so it is always ''; the column keeps the shared queries (package
-- sqlstore) and the schema numbers of both drivers aligned (the postgres migration 0011 also
-- adds the cluster's tables and an index by node, which a single node has no use for).
ALTER TABLE room_members ADD COLUMN node TEXT NOT NULL DEFAULT '';
