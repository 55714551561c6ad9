package rest

import (
	"context"
	"encoding/json"
	"time"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

// roomd's own APIs behind the console's pages (and usable by any REST client): the
// delivery log's overview (roomd_delivery/stats), the callback settings in force
// (roomd_delivery/get_settings), a test callback (roomd_delivery/test_callback) and a
// room's recent messages (roomd_room/get_recent_msgs).

const (
	defaultStatsWindow = 30 * time.Minute
	maxStatsBuckets    = 1440
)

type bucketJSON struct {
	Time      int64 `json:"Time"` // start of the bucket, Unix ms
	Delivered int64 `json:"Delivered"`
	Failed    int64 `json:"Failed"`
}

// deliveryStats answers the counts of the app's events per state, the queue depth
// (pending + retrying), the age of the oldest undelivered event and the attempts per
// bucket since Since (Unix s, default 30 minutes ago), BucketSeconds long (default 60).
func (h *Handler) deliveryStats(ctx context.Context, c *call) (any, error) {
	var req struct {
		Since         int64 `json:"Since"`
		BucketSeconds int64 `json:"BucketSeconds"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	now := h.o.Now()
	since := now.Add(-defaultStatsWindow)
	if req.Since > 0 {
		since = time.Unix(req.Since, 0)
	}
	bucket := time.Minute
	if req.BucketSeconds > 0 {
		bucket = time.Duration(req.BucketSeconds) * time.Second
	}
	if req.BucketSeconds < 0 || now.Sub(since)/bucket > maxStatsBuckets {
		return nil, errcode.InvalidBare("BucketSeconds", "must make at most 1440 buckets since Since")
	}
	st, hist, err := h.o.Delivery.LogStats(ctx, c.app.ID, since, bucket)
	if err != nil {
		return nil, err
	}
	out := struct {
		Pending, Retrying, Delivered, Dead int64
		QueueDepth                         int64   `json:"QueueDepth"`
		OldestPendingTime                  int64   `json:"OldestPendingTime"`
		OldestPendingAgeSeconds            float64 `json:"OldestPendingAgeSeconds"`
		Since                              int64   `json:"Since"`
		BucketSeconds                      int64   `json:"BucketSeconds"`
		Buckets                            []bucketJSON
	}{Pending: st.Pending, Retrying: st.Retrying, Delivered: st.Delivered, Dead: st.Dead,
		QueueDepth: st.Pending + st.Retrying, Since: since.Unix(), BucketSeconds: int64(bucket / time.Second), Buckets: []bucketJSON{}}
	if !st.OldestUndelivered.IsZero() {
		out.OldestPendingTime = st.OldestUndelivered.UnixMilli()
		out.OldestPendingAgeSeconds = max(0, now.Sub(st.OldestUndelivered).Seconds())
	}
	for _, b := range hist {
		out.Buckets = append(out.Buckets, bucketJSON{Time: b.Start.UnixMilli(), Delivered: b.Succeeded, Failed: b.Failed})
	}
	return out, nil
}

type commandJSON struct {
	Command string `json:"Command"`
	Group   string `json:"Group"`
	Kind    string `json:"Kind"` // After, Before or Switch
}

// deliverySettings answers the app's callback configuration in force: what
// live_config/get_callback answers, plus the token, whether a Standard Webhooks signing
// secret is configured (never the secret), the timeout and retry policy, and the catalogue of
// command words with the group Tencent's console files each under.
func (h *Handler) deliverySettings(ctx context.Context, c *call) (any, error) {
	var req struct{}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	cfg := h.o.Callbacks.Current(c.app.ID)
	out := struct {
		Url                     string   `json:"Url"`
		CallbackCommandList     []string `json:"CallbackCommandList"`
		Token                   string   `json:"Token"`
		IsTokenEnable           bool     `json:"IsTokenEnable"`
		SigningSecretConfigured bool     `json:"SigningSecretConfigured"`
		TimeoutMs               int64    `json:"TimeoutMs"`
		RetryEnabled            bool     `json:"RetryEnabled"`
		MaxAttempts             int      `json:"MaxAttempts"`
		BeforeSendMsgOnFailure  string   `json:"BeforeSendMsgOnFailure"`
		// The delivery guards: the room hold bound (0 = none), the breaker (0 failures =
		// off) and the rate limit (0 = none).
		MaxRoomHoldMs          int64         `json:"MaxRoomHoldMs"`
		BreakerFailures        int           `json:"BreakerFailures"`
		BreakerProbeIntervalMs int64         `json:"BreakerProbeIntervalMs"`
		MaxPerSecond           float64       `json:"MaxPerSecond"`
		Commands               []commandJSON `json:"Commands"`
	}{Url: cfg.URL, CallbackCommandList: cfg.Commands, Token: cfg.Token, IsTokenEnable: cfg.TokenEnabled,
		SigningSecretConfigured: cfg.SigningSecret != "", TimeoutMs: cfg.Timeout.Milliseconds(),
		RetryEnabled: cfg.Retry.Enabled, MaxAttempts: cfg.Retry.MaxAttempts, BeforeSendMsgOnFailure: cfg.BeforeSendMsgOnFailure,
		MaxRoomHoldMs: cfg.MaxRoomHold.Milliseconds(), BreakerFailures: cfg.Breaker.Failures,
		BreakerProbeIntervalMs: cfg.Breaker.ProbeInterval.Milliseconds(), MaxPerSecond: cfg.MaxPerSecond}
	if out.CallbackCommandList == nil {
		out.CallbackCommandList = []string{}
	}
	for _, cmd := range webhook.Commands {
		out.Commands = append(out.Commands, commandJSON{Command: string(cmd), Group: cmd.Group(), Kind: cmd.Kind()})
	}
	return out, nil
}

// testCallback sends a sample callback (Live.CallbackAfterChangeOwner unless
// CallbackCommand names another) to the app's callback URL now, whether or not the command
// is switched on, waits for the reply and answers it; the callback is recorded in the
// delivery log.
func (h *Handler) testCallback(ctx context.Context, c *call) (any, error) {
	var req struct {
		CallbackCommand string `json:"CallbackCommand"`
		RoomId          string `json:"RoomId"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	cmd := webhook.AfterChangeOwner
	if req.CallbackCommand != "" {
		cmd = webhook.Command(req.CallbackCommand)
	}
	if !webhook.Known(string(cmd)) || cmd.Kind() == "Switch" {
		return nil, errcode.InvalidBare("CallbackCommand", "must be a callback command word")
	}
	roomID := req.RoomId
	if roomID == "" {
		roomID = "roomd-test-room"
	}
	now := h.o.Now()
	// Other commands get a minimal body: the command word, the room, the time and the
	// operator (a map: its keys are sent sorted).
	var sample any = map[string]any{"CallbackCommand": cmd, "RoomId": roomID, "EventTime": now.UnixMilli(), "Operator_Account": c.identifier}
	if cmd == webhook.AfterChangeOwner {
		sample = webhook.ChangeOwner{RoomId: roomID, EventTime: now.UnixMilli(), Operator_Account: c.identifier,
			CurrentOwner_Account: "roomd-test-new-owner", OriginalOwner_Account: "roomd-test-owner"}
	}
	body, err := webhook.Render(cmd, sample)
	if err != nil {
		return nil, err
	}
	ev, att, err := h.o.Delivery.Test(ctx, c.app.ID, store.Event{RoomID: roomID, Command: string(cmd), Body: body,
		ClientIP: c.clientIP, Platform: webhook.PlatformRESTAPI})
	if err != nil {
		return nil, err
	}
	out := struct {
		EventId    int64        `json:"EventId"`
		WebhookId  string       `json:"WebhookId"`
		State      string       `json:"State"`
		StatusCode int          `json:"StatusCode"`
		DurationMs int64        `json:"DurationMs"`
		Response   string       `json:"Response"`
		Error      string       `json:"Error"`
		Request    *requestJSON `json:"Request,omitempty"`
	}{EventId: ev.ID, State: string(ev.State), StatusCode: att.StatusCode, DurationMs: att.Duration.Milliseconds(),
		Response: att.Response, Error: att.Error, Request: lastRequest(ev, []store.Attempt{att})}
	if out.Request != nil {
		out.WebhookId = out.Request.Headers["Webhook-Id"]
	}
	return out, nil
}

type recentMsgJSON struct {
	MsgSeq          int64           `json:"MsgSeq"`
	From_Account    string          `json:"From_Account"`
	MsgTime         int64           `json:"MsgTime"`
	MsgBody         json.RawMessage `json:"MsgBody"`
	CloudCustomData string          `json:"CloudCustomData,omitempty"`
	MsgId           string          `json:"MsgId"`
}

// getRecentMsgs answers the last Limit (default and at most 100) messages of a room, oldest
// first.
func (h *Handler) getRecentMsgs(ctx context.Context, c *call) (any, error) {
	var req struct {
		RoomId string `json:"RoomId"`
		Limit  int    `json:"Limit"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if _, err := h.o.Rooms.Get(ctx, c.app.ID, req.RoomId); err != nil {
		return nil, err
	}
	msgs, err := h.o.Messages.Recent(ctx, c.app.ID, req.RoomId, req.Limit)
	if err != nil {
		return nil, err
	}
	out := struct {
		MsgList []recentMsgJSON `json:"MsgList"`
	}{MsgList: []recentMsgJSON{}}
	for _, m := range msgs {
		out.MsgList = append(out.MsgList, recentMsgJSON{MsgSeq: m.Seq, From_Account: m.Sender, MsgTime: m.Time.Unix(),
			MsgBody: m.Body, CloudCustomData: m.CloudCustomData, MsgId: m.MsgID})
	}
	return out, nil
}
