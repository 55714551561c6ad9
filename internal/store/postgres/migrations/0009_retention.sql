-- roomd schema, version 9: retention of finished events (package webhook/retention).
-- finished_at is when an event became delivered or dead (0 while it is pending or
-- retrying); events_finished finds the finished events of one app oldest first, so a
-- pruning batch reads only the rows it deletes. The index is partial: pending and retrying
-- events, the dispatcher's hot rows, are not in it.
ALTER TABLE events ADD COLUMN finished_at BIGINT NOT NULL DEFAULT 0;

UPDATE events SET finished_at = CASE
		WHEN state = 'delivered' AND delivered_at > 0 THEN delivered_at
		ELSE COALESCE((SELECT MAX(started_at + duration_us / 1000) FROM attempts WHERE event_id = events.id), created_at)
	END
	WHERE state IN ('delivered', 'dead');

CREATE INDEX events_finished ON events (sdkappid, state, finished_at) WHERE state IN ('delivered', 'dead');
