package bench

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The callbacks the bench switches on: one per app, changeOwnerCommand unless the
// scenario says otherwise.
const (
	changeOwnerCommand = "Live.CallbackAfterChangeOwner"
	createRoomCommand  = "Live.CallbackAfterCreateRoom"
)

// receiver is the bench's App backend: a plain net/http server on 127.0.0.1 that checks
// every Live.CallbackAfterChangeOwner it gets (query string, headers, body fields), records
// per room the owners it was told about in arrival order with the event ids and arrival
// times, and answers OK — or 503 while it is "down".
//
// Order and completeness are judged afterwards by verify, against the sequence of owner
// changes the REST API acknowledged for each room.
type receiver struct {
	app       uint64
	operator  string           // "" when the operator is the room's original owner (client changes)
	owners    map[string]uint8 // owner UserID -> index
	rooms     map[string]*roomLog
	epoch     time.Time // arrival times are nanoseconds since epoch
	notBefore int64     // EventTime (ms) must not be earlier
	query     string    // the expected query string
	command   string    // the expected CallbackCommand
	// lazy makes the receiver accept rooms it was not told about, each on its first
	// callback (create-room: the rooms do not exist beforehand).
	lazy    bool
	roomsMu sync.Mutex // guards rooms when lazy

	down     atomic.Bool
	accepted atomic.Int64 // OK answers to first arrivals (not duplicates)
	rejected atomic.Int64 // 503 answers while down
	dups     atomic.Int64

	mu     sync.Mutex
	bad    int64
	badMsg []string

	srv *http.Server
	ln  net.Listener
	URL string
}

// roomLog is what one room's callbacks told the receiver, in arrival order.
type roomLog struct {
	mu      sync.Mutex
	owners  []uint8 // CurrentOwner_Account index of each first arrival
	seqs    []int64 // event number from webhook-id, strictly increasing if in order
	arrived []int64 // arrival, ns since receiver epoch
	orderOK bool
}

var okReply = []byte(`{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`)

// newReceiver starts a receiver for the given rooms and owners on 127.0.0.1:0.
func newReceiver(app uint64, operator string, owners []string, rooms []string, epoch time.Time) (*receiver, error) {
	rc := &receiver{
		app: app, operator: operator, epoch: epoch,
		owners:    make(map[string]uint8, len(owners)),
		rooms:     make(map[string]*roomLog, len(rooms)),
		command:   changeOwnerCommand,
		notBefore: time.Now().Add(-time.Minute).UnixMilli(),
		query: "SdkAppid=" + strconv.FormatUint(app, 10) + "&CallbackCommand=" + url.QueryEscape(changeOwnerCommand) +
			"&contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI",
	}
	for i, o := range owners {
		rc.owners[o] = uint8(i)
	}
	for _, r := range rooms {
		rc.rooms[r] = &roomLog{orderOK: true}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("receiver: %w", err)
	}
	rc.ln = ln
	rc.URL = "http://" + ln.Addr().String() + "/callback"
	rc.srv = &http.Server{Handler: rc, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	go rc.srv.Serve(ln)
	return rc, nil
}

// expectClient makes the receiver expect changes made through the client API by the
// room's owner: Operator_Account is the original owner and OptPlatform the platform the
// client declared. It must be called before the first callback arrives.
func (rc *receiver) expectClient(platform string) {
	rc.operator = ""
	rc.query = clientQuery(rc.app, platform)
}

// expectCreate makes the receiver expect Live.CallbackAfterCreateRoom from the REST API, for
// rooms it learns on their first callback; each room's "owners" are then the one owner
// its callback announced. It must be called before the first callback arrives.
func (rc *receiver) expectCreate() {
	rc.command = createRoomCommand
	rc.lazy = true
	rc.query = "SdkAppid=" + strconv.FormatUint(rc.app, 10) + "&CallbackCommand=" + url.QueryEscape(createRoomCommand) +
		"&contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI"
}

// room returns the log of room id; nil when the receiver does not know it.
func (rc *receiver) room(id string) *roomLog {
	if !rc.lazy {
		return rc.rooms[id]
	}
	rc.roomsMu.Lock()
	defer rc.roomsMu.Unlock()
	l := rc.rooms[id]
	if l == nil && id != "" {
		l = &roomLog{orderOK: true}
		rc.rooms[id] = l
	}
	return l
}

// clientQuery is the callback query string of a change made through the client API from
// 127.0.0.1 on platform.
func clientQuery(app uint64, platform string) string {
	return "SdkAppid=" + strconv.FormatUint(app, 10) + "&CallbackCommand=" + url.QueryEscape(changeOwnerCommand) +
		"&contenttype=json&ClientIP=127.0.0.1&OptPlatform=" + url.QueryEscape(platform)
}

// Close stops the receiver.
func (rc *receiver) Close() { rc.srv.Close() }

func (rc *receiver) fail(format string, args ...any) {
	rc.mu.Lock()
	rc.bad++
	if len(rc.badMsg) < 5 {
		rc.badMsg = append(rc.badMsg, fmt.Sprintf(format, args...))
	}
	rc.mu.Unlock()
}

type changeOwnerBody struct {
	CallbackCommand       string `json:"CallbackCommand"`
	RoomId                string `json:"RoomId"`
	EventTime             int64  `json:"EventTime"`
	Operator_Account      string `json:"Operator_Account"`
	CurrentOwner_Account  string `json:"CurrentOwner_Account"`
	OriginalOwner_Account string `json:"OriginalOwner_Account"`
	// RoomInfo is Live.CallbackAfterCreateRoom's.
	RoomInfo *struct {
		RoomId        string `json:"RoomId"`
		Owner_Account string `json:"Owner_Account"`
	} `json:"RoomInfo"`
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Since(rc.epoch).Nanoseconds()
	if rc.down.Load() {
		io.Copy(io.Discard, r.Body)
		rc.rejected.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		rc.fail("read body: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var b changeOwnerBody
	if err := json.Unmarshal(body, &b); err != nil {
		rc.fail("body is not JSON: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if b.RoomInfo != nil && b.RoomId == "" {
		b.RoomId = b.RoomInfo.RoomId
	}
	if msg := rc.check(r, &b); msg != "" {
		rc.fail("room %s: %s", b.RoomId, msg)
		// Answer OK anyway: a malformed callback must not be retried into the statistics.
		w.Header().Set("Content-Type", "application/json")
		w.Write(okReply)
		return
	}
	seq, _ := eventSeq(r.Header.Get("webhook-id"))
	room := rc.room(b.RoomId)
	cur := rc.owners[b.CurrentOwner_Account]
	if rc.command == createRoomCommand {
		cur = rc.owners[b.RoomInfo.Owner_Account]
	}

	room.mu.Lock()
	n := len(room.seqs)
	switch {
	case n == 0 || seq > room.seqs[n-1]:
		room.owners = append(room.owners, cur)
		room.seqs = append(room.seqs, seq)
		room.arrived = append(room.arrived, now)
		room.mu.Unlock()
		rc.accepted.Add(1)
	case seqSeen(room.seqs, seq):
		// At-least-once: a redelivery of an event already received, same webhook-id.
		room.mu.Unlock()
		rc.dups.Add(1)
	default:
		room.orderOK = false
		last := room.seqs[n-1]
		room.mu.Unlock()
		rc.fail("room %s: event %d arrived after event %d", b.RoomId, seq, last)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(okReply)
}

// check validates one callback request against Tencent's callback wire format
// (https://www.tencentcloud.com/document/product/647/64412); it
// returns "" when it is right.
func (rc *receiver) check(r *http.Request, b *changeOwnerBody) string {
	if r.Method != http.MethodPost {
		return "method " + r.Method
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return "Content-Type " + ct
	}
	// The query string must be exactly Tencent's, parameters in the order of Tencent's
	// examples: SdkAppid, CallbackCommand, contenttype, ClientIP, OptPlatform (no
	// token is configured, so no Sign/RequestTime); comparing the raw string is both the
	// strictest check and the cheapest.
	if r.URL.RawQuery != rc.query {
		return "query " + r.URL.RawQuery
	}
	if _, ok := eventSeq(r.Header.Get("webhook-id")); !ok {
		return "webhook-id " + strconv.Quote(r.Header.Get("webhook-id"))
	}
	if r.Header.Get("webhook-timestamp") == "" {
		return "no webhook-timestamp"
	}
	if b.CallbackCommand != rc.command {
		return "CallbackCommand " + b.CallbackCommand
	}
	if rc.room(b.RoomId) == nil {
		return "unknown RoomId"
	}
	if rc.command == createRoomCommand {
		if b.RoomInfo == nil {
			return "no RoomInfo"
		}
		if b.Operator_Account != rc.operator {
			return "Operator_Account " + b.Operator_Account + ", want " + rc.operator
		}
		if _, ok := rc.owners[b.RoomInfo.Owner_Account]; !ok {
			return "Owner_Account " + b.RoomInfo.Owner_Account
		}
		if b.EventTime < rc.notBefore || b.EventTime > time.Now().Add(time.Minute).UnixMilli() {
			return "EventTime " + strconv.FormatInt(b.EventTime, 10)
		}
		return ""
	}
	if want := cmp.Or(rc.operator, b.OriginalOwner_Account); b.Operator_Account != want {
		return "Operator_Account " + b.Operator_Account + ", want " + want
	}
	cur, ok1 := rc.owners[b.CurrentOwner_Account]
	orig, ok2 := rc.owners[b.OriginalOwner_Account]
	if !ok1 || !ok2 || cur == orig {
		return fmt.Sprintf("owners %q -> %q", b.OriginalOwner_Account, b.CurrentOwner_Account)
	}
	if b.EventTime < rc.notBefore || b.EventTime > time.Now().Add(time.Minute).UnixMilli() {
		return "EventTime " + strconv.FormatInt(b.EventTime, 10)
	}
	return ""
}

// eventSeq extracts the event number of a webhook-id "msg_<instance>_<id>".
func eventSeq(id string) (int64, bool) {
	rest, ok := strings.CutPrefix(id, "msg_")
	if !ok {
		return 0, false
	}
	i := strings.LastIndexByte(rest, '_')
	if i < 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(rest[i+1:], 10, 64)
	return n, err == nil && n > 0
}

// seqSeen reports whether seq is in the increasing slice seqs.
func seqSeen(seqs []int64, seq int64) bool {
	lo, hi := 0, len(seqs)
	for lo < hi {
		m := (lo + hi) / 2
		if seqs[m] < seq {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo < len(seqs) && seqs[lo] == seq
}

// waitFor polls until the receiver has accepted want first arrivals, or ctx ends; it
// returns when the count was reached.
func (rc *receiver) waitFor(ctx context.Context, want int64) (time.Time, error) {
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for {
		if rc.accepted.Load() >= want {
			return time.Now(), nil
		}
		select {
		case <-ctx.Done():
			return time.Now(), fmt.Errorf("%d of %d callbacks arrived before the deadline: %w", rc.accepted.Load(), want, ctx.Err())
		case <-t.C:
		}
	}
}

// verification is the outcome of comparing the received callbacks with the acknowledged
// changes.
type verification struct {
	Expected   int64 `json:"expected"`
	Verified   int64 `json:"verified"`
	Duplicates int64 `json:"duplicates"`
	Problems   int64 `json:"problems"`
	// First problems, for the report.
	Examples []string `json:"examples,omitempty"`
}

// OK reports whether every acknowledged change arrived once, in order, well-formed.
func (v *verification) OK() bool { return v.Problems == 0 && v.Verified == v.Expected }

// verify compares, room by room, the owners the callbacks announced (in arrival order)
// with the owners the REST API acknowledged (in the order the changes were made; each room
// is changed by one goroutine at a time, so that order is well defined).
func (rc *receiver) verify(acked map[string][]uint8) verification {
	v := verification{Duplicates: rc.dups.Load()}
	rc.mu.Lock()
	v.Problems = rc.bad
	v.Examples = append(v.Examples, rc.badMsg...)
	rc.mu.Unlock()
	problem := func(format string, args ...any) {
		v.Problems++
		if len(v.Examples) < 5 {
			v.Examples = append(v.Examples, fmt.Sprintf(format, args...))
		}
	}
	for id, want := range acked {
		v.Expected += int64(len(want))
		rc.roomsMu.Lock()
		room := rc.rooms[id]
		rc.roomsMu.Unlock()
		if room == nil {
			problem("room %s: not known to the receiver", id)
			continue
		}
		room.mu.Lock()
		got := room.owners
		orderOK := room.orderOK
		room.mu.Unlock()
		n := 0
		for n < len(got) && n < len(want) && got[n] == want[n] {
			n++
		}
		v.Verified += int64(n)
		switch {
		case !orderOK:
			// Already counted when the late event arrived.
		case n < len(got) && n < len(want):
			problem("room %s: callback %d announced owner #%d, the REST API set owner #%d", id, n+1, got[n], want[n])
		case len(got) < len(want):
			problem("room %s: %d of %d callbacks missing", id, len(want)-len(got), len(want))
		case len(got) > len(want):
			problem("room %s: %d callbacks for changes the REST API did not acknowledge", id, len(got)-len(want))
		}
	}
	for id := range rc.rooms {
		if _, ok := acked[id]; !ok && len(rc.rooms[id].owners) > 0 {
			problem("room %s: callbacks for a room that was not changed", id)
		}
	}
	return v
}
