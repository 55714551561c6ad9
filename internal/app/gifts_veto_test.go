package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/client"
	"github.com/roomd/roomd/internal/api/clientws"
	"github.com/roomd/roomd/internal/store"
)

// Live.CallbackBeforeSendGift end to end, with a real App backend (testkit receiver) that
// decides by the gift id: through REST send_gift and through the client's sendGift.

// giftBackend answers Live.CallbackBeforeSendGift by GiftWater.GiftId and every other
// callback with OK. "slow" blocks until the test ends.
func giftBackend(t *testing.T, e *confEnv) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	e.rc.Respond(func(w http.ResponseWriter, _ *http.Request, r callbackRequest) {
		reply := `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`
		if r.Command == cmdBeforeSendGift {
			var body struct{ GiftWater struct{ GiftId string } }
			json.Unmarshal(r.Body, &body)
			switch body.GiftWater.GiftId {
			case "veto":
				reply = `{"ActionStatus":"FAIL","ErrorInfo":"not now","ErrorCode":1}`
			case "veto-102150":
				reply = `{"ActionStatus":"FAIL","ErrorInfo":"not enough balance","ErrorCode":102150}`
			case "veto-102201":
				reply = `{"ActionStatus":"FAIL","ErrorInfo":"out of range","ErrorCode":102201}`
			case "slow":
				<-release
			case "garbage":
				reply = `<html>oops</html>`
			case "status-500":
				w.WriteHeader(http.StatusInternalServerError)
			case "fail-but-0":
				reply = `{"ActionStatus":"FAIL","ErrorInfo":"","ErrorCode":0}`
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(reply))
	})
}

var vetoGifts = []string{"plain", "veto", "veto-102150", "veto-102201", "slow", "garbage", "status-500", "fail-but-0"}

// vetoRoom configures the gifts of giftBackend, imports the accounts and creates r1.
func (e *confEnv) vetoRoom() {
	e.t.Helper()
	for i, g := range vetoGifts {
		mustOK(e.t, e.call(svc+"add_gift", map[string]any{"GiftId": g, "Coins": 10 * (i + 1), "DefaultName": g}))
	}
	e.importAccounts("anchor", "u1")
	e.createRoom("r1", "anchor")
}

func (e *confEnv) restGift(gift string) (int, string) {
	e.t.Helper()
	env := e.call(svc+"send_gift", map[string]any{"RoomId": "r1", "GiftId": gift, "Count": 2, "From_Account": "u1", "ReceiverList_Account": []string{"anchor"}})
	return env.ErrorCode, env.ErrorInfo
}

func TestBeforeSendGiftBlocksByDefault(t *testing.T) {
	e := startGifts(t, withGiftCallback(300*time.Millisecond, false))
	giftBackend(t, e)
	e.vetoRoom()
	want := map[string]int{"plain": 0, "veto": 102004, "veto-102150": 102150, "veto-102201": 102004, "slow": 102004,
		"garbage": 102004, "status-500": 102004, "fail-but-0": 0}
	for _, g := range vetoGifts {
		code, info := e.restGift(g)
		if code != want[g] {
			t.Errorf("%s: code %d (%s), want %d", g, code, info, want[g])
		}
		if g == "veto-102150" && info != "not enough balance" {
			t.Errorf("%s: ErrorInfo %q, want the backend's", g, info)
		}
	}
	// Refused gifts change nothing: only plain and fail-but-0 were counted.
	stats := string(mustOK(t, e.call(svc+"get_room_stats", `{"RoomId":"r1"}`)).Response)
	if !strings.Contains(stats, `"TotalGiftsSent":4,"TotalGiftCoins":180,"TotalUniqueGiftSenders":1`) {
		t.Errorf("stats %s", stats)
	}
	env := e.call(svc+"send_gift", `{"RoomId":"r1","GiftId":"veto-102150","From_Account":"u1","ReceiverList_Account":["anchor"]}`)
	e.golden(t, "send_gift_vetoed_102150", normalizeReply(env.Raw))
	env = e.call(svc+"send_gift", `{"RoomId":"r1","GiftId":"garbage","From_Account":"u1","ReceiverList_Account":["anchor"]}`)
	e.golden(t, "send_gift_no_valid_reply", normalizeReply(env.Raw))

	// The request as the App backend saw it.
	first := e.callbackWith(t, cmdBeforeSendGift, `"GiftId":"plain"`)
	e.golden(t, "before_send_gift_callback", renderCallbacks([]callbackRequest{first}))
	if id := first.Header.Get("webhook-id"); !strings.HasPrefix(id, "msg_") {
		t.Errorf("webhook-id %q", id)
	}

	// Every attempt is in the delivery log, in a final state, never pending.
	evs := e.events(cmdBeforeSendGift)
	if len(evs) != len(vetoGifts)+2 {
		t.Fatalf("%d Before-callback records, want %d", len(evs), len(vetoGifts)+2)
	}
	var states []string
	for _, ev := range evs {
		atts, err := e.Srv.Store().AttemptList(context.Background(), ev.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(atts) != 1 {
			t.Errorf("event %d: %d attempts", ev.ID, len(atts))
		}
		states = append(states, strings.TrimSpace(string(ev.State)+" "+ev.LastError))
	}
	e.golden(t, "before_send_gift_records", []byte(strings.Join(states, "\n")+"\n"))
	und, err := e.Srv.Store().EventListUndelivered(context.Background(), store.EventListParams{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range und {
		if ev.Command == cmdBeforeSendGift {
			t.Errorf("Before-callback event %d is %s", ev.ID, ev.State)
		}
	}
	// A gift the room refuses anyway is refused before the App backend is asked.
	n := len(evs)
	mustFail(t, e.call(svc+"send_gift", `{"RoomId":"r1","GiftId":"nope","From_Account":"u1","ReceiverList_Account":["anchor"]}`), 102002)
	mustFail(t, e.call(svc+"send_gift", `{"RoomId":"gone","GiftId":"plain","From_Account":"u1","ReceiverList_Account":["anchor"]}`), 100004)
	if got := len(e.events(cmdBeforeSendGift)); got != n {
		t.Errorf("%d Before-callback records after refusals the room makes, want %d", got, n)
	}
}

func TestBeforeSendGiftNotBlock(t *testing.T) {
	e := startGifts(t, withGiftCallback(300*time.Millisecond, true))
	giftBackend(t, e)
	e.vetoRoom()
	// No valid reply lets the gift go; a veto still refuses it.
	want := map[string]int{"plain": 0, "veto": 102004, "veto-102150": 102150, "veto-102201": 102004, "slow": 0,
		"garbage": 0, "status-500": 0, "fail-but-0": 0}
	for _, g := range vetoGifts {
		if code, info := e.restGift(g); code != want[g] {
			t.Errorf("%s: code %d (%s), want %d", g, code, info, want[g])
		}
	}
	// Live.CallbackBeforeCallBackNotBlock is a switch, never sent.
	for _, r := range e.rc.All() {
		if r.Command == cmdNotBlock {
			t.Errorf("%s was sent", cmdNotBlock)
		}
	}
}

func TestBeforeSendGiftSwitchedOff(t *testing.T) {
	e := startGifts(t)
	giftBackend(t, e)
	e.vetoRoom()
	if code, _ := e.restGift("veto"); code != 0 {
		t.Errorf("veto with the callback switched off: %d", code)
	}
	if n := len(e.events(cmdBeforeSendGift)); n != 0 {
		t.Errorf("%d Before-callback records with the command switched off", n)
	}
}

// dialUser connects user to the server's client API.
func (e *confEnv) dialUser(user string) *client.Conn {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, "ws"+strings.TrimPrefix(e.Base, "http")+clientws.Path,
		client.Options{SDKAppID: testApp, UserID: user, UserSig: e.userSig(user), Platform: "Android"})
	if err != nil {
		e.t.Fatalf("dial %s: %v", user, err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

// callClient calls method on c and returns the roomd error code (0 on success).
func callClient(t *testing.T, c *client.Conn, method string, params, result any) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := c.Call(ctx, method, params, result)
	var ce *client.Error
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ce):
		return ce.Code
	}
	t.Fatalf("%s: %v", method, err)
	return 0
}

// nextNote returns c's next push of method, skipping others.
func nextNote(t *testing.T, c *client.Conn, method string) json.RawMessage {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case n := <-c.Notifications():
			if n.Method == method {
				return n.Params
			}
		case <-timeout:
			t.Fatalf("no %s push", method)
		}
	}
}

func TestClientGiftsAndLikes(t *testing.T) {
	e := startGifts(t, withGiftCallback(300*time.Millisecond, false))
	giftBackend(t, e)
	e.vetoRoom()
	mustOK(t, e.call(svc+"add_gift_category", `{"CategoryId":"main","DefaultName":"Main"}`))
	mustOK(t, e.call(svc+"set_gift_category_language", `{"CategoryId":"main","Language":"zh-Hans","CategoryName":"主要"}`))
	mustOK(t, e.call(svc+"add_gift_category_relations", `{"CategoryId":"main","GiftIdList":["plain","veto"]}`))
	mustOK(t, e.call(svc+"set_gift_language", `{"GiftId":"plain","Language":"zh-Hans","Name":"普通"}`))
	anchor, viewer := e.dialUser("anchor"), e.dialUser("u1")
	for _, c := range []*client.Conn{anchor, viewer} {
		if code := callClient(t, c, "enterRoom", map[string]string{"roomId": "r1"}, nil); code != 0 {
			t.Fatalf("enterRoom: %d", code)
		}
	}

	// getGiftList: categories with their gifts, then the gifts in none; localised on request.
	var list json.RawMessage
	if code := callClient(t, viewer, "getGiftList", map[string]string{"roomId": "r1", "language": "zh-Hans"}, &list); code != 0 {
		t.Fatalf("getGiftList: %d", code)
	}
	e.golden(t, "client_get_gift_list", append(list, '\n'))
	if code := callClient(t, viewer, "getGiftList", map[string]string{"roomId": "nope"}, nil); code != 100004 {
		t.Errorf("getGiftList of an unknown room: %d", code)
	}

	// sendGift: the veto's code reaches the client; a refused gift is not pushed.
	for gift, want := range map[string]int{"veto": 102004, "veto-102150": 102150, "garbage": 102004, "nope": 102002} {
		if code := callClient(t, viewer, "sendGift", map[string]any{"roomId": "r1", "giftId": gift, "count": 1}, nil); code != want {
			t.Errorf("sendGift %s: %d, want %d", gift, code, want)
		}
	}
	if code := callClient(t, viewer, "sendGift", map[string]any{"roomId": "r1", "giftId": "plain", "count": 3}, nil); code != 0 {
		t.Fatalf("sendGift plain: %d", code)
	}
	// Both the anchor and the sender get the gift, then the new totals.
	for _, c := range []*client.Conn{anchor, viewer} {
		got := nextNote(t, c, "onReceiveGiftMessage")
		e.golden(t, "client_on_receive_gift_message", append(got, '\n'))
		counts := nextNote(t, c, "onGiftCountChanged")
		if string(counts) != `{"roomId":"r1","totalGiftCoins":30,"totalGiftsSent":3,"totalUniqueGiftSenders":1}` {
			t.Errorf("onGiftCountChanged %s", counts)
		}
	}
	// The Before-callback named the anchor as the receiver and the viewer as operator.
	cb := e.callbackWith(t, cmdBeforeSendGift, `"Count":3`)
	e.golden(t, "client_before_send_gift_callback", renderCallbacks([]callbackRequest{cb}))

	// Likes.
	if code := callClient(t, viewer, "sendLike", map[string]any{"roomId": "r1", "count": 5}, nil); code != 0 {
		t.Fatalf("sendLike: %d", code)
	}
	if code := callClient(t, anchor, "sendLike", map[string]any{"roomId": "r1"}, nil); code != 0 {
		t.Fatalf("sendLike without count: %d", code)
	}
	for _, bad := range []map[string]any{{"roomId": "r1", "count": 0}, {"roomId": "r1", "count": 1001}} {
		if code := callClient(t, viewer, "sendLike", bad, nil); code != 100002 {
			t.Errorf("sendLike %v: %d", bad, code)
		}
	}
	if got := nextNote(t, anchor, "onReceiveLikesMessage"); string(got) != `{"roomId":"r1","sender":{"userId":"u1"},"totalLikesReceived":5}` {
		t.Errorf("first like push %s", got)
	}
	got := nextNote(t, anchor, "onReceiveLikesMessage")
	e.golden(t, "client_on_receive_likes_message", append(got, '\n'))
	var likes struct{ TotalLikesReceived int64 }
	callClient(t, anchor, "getLikesCount", map[string]string{"roomId": "r1"}, &likes)
	var gifts map[string]any
	callClient(t, anchor, "getGiftCountByAnchor", map[string]string{"roomId": "r1"}, &gifts)
	if likes.TotalLikesReceived != 6 || gifts["totalGiftsSent"] != float64(3) {
		t.Errorf("getLikesCount %+v, getGiftCountByAnchor %v", likes, gifts)
	}
	stats := string(mustOK(t, e.call(svc+"get_room_stats", `{"RoomId":"r1"}`)).Response)
	if !strings.Contains(stats, `"TotalGiftsSent":3,"TotalGiftCoins":30,"TotalUniqueGiftSenders":1,"TotalLikesReceived":6`) {
		t.Errorf("stats %s", stats)
	}

	// A connection that did not enter the room cannot send there.
	other := e.dialUser("anchor")
	if code := callClient(t, other, "sendGift", map[string]any{"roomId": "r1", "giftId": "plain"}, nil); code != 100005 {
		t.Errorf("sendGift without entering: %d", code)
	}
	if code := callClient(t, other, "sendLike", map[string]any{"roomId": "r1"}, nil); code != 100005 {
		t.Errorf("sendLike without entering: %d", code)
	}
}
