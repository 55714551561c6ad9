-- roomd schema, version 9: the request of every delivery attempt, as it was sent (the full
-- URL with Tencent's query string, Sign and RequestTime included, and the headers roomd set,
-- webhook-signature included), so the delivery log shows it exactly even after the token or
-- the signing secret changed; and an index for the console's chart of attempts over time.
ALTER TABLE attempts ADD COLUMN request_url TEXT NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN request_headers TEXT NOT NULL DEFAULT '';
CREATE INDEX attempts_by_start ON attempts (started_at);
