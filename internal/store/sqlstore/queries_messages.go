package sqlstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/roomd/roomd/internal/store"
)

// The queries of room message history (store.MessageReader, store.MessageWriter). Schema:
// migrations/0003_admins_sanctions_messages.sql.

func (r Reader) MessageList(ctx context.Context, p store.MessageListParams) ([]store.Message, error) {
	order := `ORDER BY seq`
	if p.Newest {
		order = `ORDER BY seq DESC`
	}
	msgs, err := queryList(ctx, r.q, "list messages of room "+p.RoomID, func(rows scanner) (store.Message, error) {
		m := store.Message{App: p.App, RoomID: p.RoomID}
		var at, random int64
		var body string
		err := rows.Scan(&m.Seq, &m.Sender, &at, &body, &m.CloudCustomData, &random, &m.MsgID)
		m.Time = fromMS(at)
		m.Body = []byte(body)
		m.Random = uint32(random)
		return m, err
	}, `SELECT seq, sender, msg_time, msg_body, cloud_custom_data, random, msg_id FROM room_messages
		WHERE sdkappid = ? AND room_id = ? AND seq > ? `+order+` LIMIT ?`, int64(p.App), p.RoomID, p.AfterSeq, r.pageLimit(p.Limit))
	if p.Newest {
		slices.Reverse(msgs)
	}
	return msgs, err
}

func (t *Tx) MessageNextSeq(ctx context.Context, app uint64, roomID string) (int64, error) {
	var seq int64
	err := t.q.QueryRow(ctx, `INSERT INTO room_msg_seq (sdkappid, room_id, last_seq) VALUES (?, ?, 1)
		ON CONFLICT (sdkappid, room_id) DO UPDATE SET last_seq = room_msg_seq.last_seq + 1 RETURNING last_seq`, int64(app), roomID).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("next message sequence of room %s: %w", roomID, err)
	}
	return seq, nil
}

func (t *Tx) MessageInsert(ctx context.Context, m store.Message) error {
	_, err := t.execGuarded(ctx, `INSERT INTO room_messages (sdkappid, room_id, seq, sender, msg_time, msg_body, cloud_custom_data, random, msg_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		int64(m.App), m.RoomID, m.Seq, m.Sender, ms(m.Time), string(m.Body), m.CloudCustomData, int64(m.Random), m.MsgID)
	if t.isUniqueViolation(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("store message %d of room %s: %w", m.Seq, m.RoomID, err)
	}
	return nil
}
