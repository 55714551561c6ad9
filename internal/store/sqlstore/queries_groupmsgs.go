package sqlstore

import (
	"context"
	"time"

	"github.com/roomd/roomd/internal/store"
)

// The query of retried group messages (store.GroupMessageReader). Schema:
// migrations/0003_admins_sanctions_messages.sql, index in 0008_profiles_follows.sql.

func (r Reader) MessageFindRandom(ctx context.Context, app uint64, roomID string, random uint32, since time.Time) (store.Message, error) {
	return queryOne(ctx, r.q, "find message by random in room "+roomID, func(row scanner) (store.Message, error) {
		m := store.Message{App: app, RoomID: roomID, Random: random}
		var at int64
		var body string
		err := row.Scan(&m.Seq, &m.Sender, &at, &body, &m.CloudCustomData, &m.MsgID)
		m.Time = fromMS(at)
		m.Body = []byte(body)
		return m, err
	}, `SELECT seq, sender, msg_time, msg_body, cloud_custom_data, msg_id FROM room_messages
		WHERE sdkappid = ? AND room_id = ? AND random = ? AND msg_time >= ? ORDER BY seq DESC LIMIT 1`,
		int64(app), roomID, int64(random), ms(since))
}
