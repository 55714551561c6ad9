package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/client"
)

// End-to-end tests of the seat operations through the client API: real WebSocket
// connections (package client) to a running roomd, REST for the set-up, and the callback
// receiver.

// dial connects user to the server's client API; the connection closes when the test ends.
func (e *confEnv) dial(t *testing.T, user string) *client.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, "ws"+strings.TrimPrefix(e.Base, "http")+"/v1/client",
		client.Options{SDKAppID: testApp, UserID: user, UserSig: e.userSig(user), Platform: "iOS"})
	if err != nil {
		t.Fatalf("dial as %s: %v", user, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// rpc calls method and fails the test on an error response.
func rpc(t *testing.T, c *client.Conn, method string, params, result any) {
	t.Helper()
	if err := rpcErr(c, method, params, result); err != nil {
		t.Fatalf("%s: %v", method, err)
	}
}

func rpcErr(c *client.Conn, method string, params, result any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.Call(ctx, method, params, result)
}

// wantCode fails the test unless err is a client error with code.
func wantCode(t *testing.T, err error, code int) {
	t.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != code {
		t.Errorf("error %v, want code %d", err, code)
	}
}

// await returns the params of the next push of method on c, skipping others.
func await(t *testing.T, c *client.Conn, method string) json.RawMessage {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case n, ok := <-c.Notifications():
			if !ok {
				t.Fatalf("connection closed waiting for %s: %v", method, c.Err())
			}
			if n.Method == method {
				return n.Params
			}
		case <-deadline:
			t.Fatalf("no %s within 10 s", method)
		}
	}
}

type seatListPush struct {
	RoomID   string `json:"roomId"`
	SeatList []struct {
		Index    int    `json:"index"`
		UserID   string `json:"userId"`
		IsLocked bool   `json:"isLocked"`
	} `json:"seatList"`
	SeatedList []struct {
		UserID string `json:"userId"`
	} `json:"seatedList"`
	LeftList []struct {
		UserID string `json:"userId"`
	} `json:"leftList"`
}

// awaitSeats waits for onSeatListChanged and returns who sits where.
func awaitSeats(t *testing.T, c *client.Conn) ([]string, seatListPush) {
	t.Helper()
	var p seatListPush
	if err := json.Unmarshal(await(t, c, "onSeatListChanged"), &p); err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(p.SeatList))
	for i, s := range p.SeatList {
		out[i] = s.UserID
	}
	return out, p
}

func TestClientTakeAndLeaveSeat(t *testing.T) {
	e := startConformance(t, "seats", clockStart, []string{cmdSeat})
	e.importAccounts("anchor")
	e.create(map[string]any{"RoomId": "c1", "Owner_Account": "anchor", "SeatTemplate": "AudioSalon", "MaxSeatCount": 3, "KeepOwnerOnSeat": true})
	anchor, guest := e.dial(t, "anchor"), e.dial(t, "guest")

	// Acting in a room needs the connection to be in it.
	wantCode(t, rpcErr(guest, "takeSeat", map[string]any{"roomId": "c1"}, nil), 100005)
	rpc(t, anchor, "enterRoom", map[string]any{"roomId": "c1"}, nil)
	rpc(t, guest, "enterRoom", map[string]any{"roomId": "c1"}, nil)
	// The owner was seated on seat 0 when it entered (KeepOwnerOnSeat).
	var list struct {
		SeatList []struct{ UserID string } `json:"seatList"`
	}
	rpc(t, guest, "getSeatList", map[string]any{"roomId": "c1"}, &list)
	if len(list.SeatList) != 3 || list.SeatList[0].UserID != "anchor" {
		t.Fatalf("seat list %+v, want the owner on seat 0 of 3", list)
	}
	awaitSeats(t, anchor) // its own seating; the guest was not in the room yet

	var took struct {
		SeatIndex *int `json:"seatIndex"`
	}
	rpc(t, guest, "takeSeat", map[string]any{"roomId": "c1", "seatIndex": -1}, &took)
	if took.SeatIndex == nil || *took.SeatIndex != 1 {
		t.Errorf("takeSeat answered %+v, want seat 1", took)
	}
	for _, c := range []*client.Conn{anchor, guest} {
		seats, p := awaitSeats(t, c)
		if seats[1] != "guest" || len(p.SeatedList) != 1 || p.SeatedList[0].UserID != "guest" {
			t.Errorf("onSeatListChanged %+v", p)
		}
	}
	wantCode(t, rpcErr(guest, "takeSeat", map[string]any{"roomId": "c1", "seatIndex": 2}, nil), 100203)
	wantCode(t, rpcErr(guest, "lockSeatByAdmin", map[string]any{"roomId": "c1", "seatIndex": 2, "lockParams": map[string]bool{"lockSeat": true}}, nil), 100006)
	wantCode(t, rpcErr(anchor, "leaveSeat", map[string]any{"roomId": "c1"}, nil), 100006)

	rpc(t, guest, "moveToSeat", map[string]any{"roomId": "c1", "targetSeatIndex": 2}, nil)
	if seats, _ := awaitSeats(t, anchor); seats[2] != "guest" || seats[1] != "" {
		t.Errorf("after moveToSeat: %q", seats)
	}
	rpc(t, guest, "leaveSeat", map[string]any{"roomId": "c1"}, nil)
	seats, p := awaitSeats(t, anchor)
	if seats[2] != "" || len(p.LeftList) != 1 || p.LeftList[0].UserID != "guest" {
		t.Errorf("after leaveSeat: %+v", p)
	}

	// The owner takes a user on a seat, locks a seat (kicking its occupant) and kicks.
	rpc(t, anchor, "takeUserOnSeatByAdmin", map[string]any{"roomId": "c1", "seatIndex": 1, "userId": "guest"}, nil)
	awaitSeats(t, guest)
	rpc(t, anchor, "lockSeatByAdmin", map[string]any{"roomId": "c1", "seatIndex": 1, "lockParams": map[string]bool{"lockSeat": true}}, nil)
	var kicked struct {
		SeatIndex   int `json:"seatIndex"`
		OperateUser struct {
			UserID string `json:"userId"`
		} `json:"operateUser"`
	}
	json.Unmarshal(await(t, guest, "onKickedOffSeat"), &kicked)
	if kicked.SeatIndex != 1 || kicked.OperateUser.UserID != "anchor" {
		t.Errorf("onKickedOffSeat %+v", kicked)
	}
	if seats, p := awaitSeats(t, guest); seats[1] != "" || !p.SeatList[1].IsLocked {
		t.Errorf("after the lock: %+v", p)
	}

	// Exiting the room frees the seat, and the callbacks tell the same story.
	rpc(t, guest, "takeSeat", map[string]any{"roomId": "c1", "seatIndex": 2}, nil)
	awaitSeats(t, anchor)
	rpc(t, guest, "exitRoom", map[string]any{"roomId": "c1"}, nil)
	if seats, _ := awaitSeats(t, anchor); seats[2] != "" {
		t.Errorf("after exitRoom: %q", seats)
	}
	cbs := e.callbacksOf(t, cmdSeat, 8)
	var last struct {
		SeatList []struct {
			Index          int
			Member_Account string
		}
	}
	json.Unmarshal(cbs[len(cbs)-1].Body, &last)
	if last.SeatList[0].Member_Account != "anchor" || last.SeatList[2].Member_Account != "" || cbs[0].Query.Get("OptPlatform") != "iOS" {
		t.Errorf("last seat callback %s (first from %s)", cbs[len(cbs)-1].Body, cbs[0].Query.Get("OptPlatform"))
	}
}

func TestClientApplyForSeat(t *testing.T) {
	e := startConformance(t, "seats", clockStart, []string{cmdSeat})
	e.importAccounts("anchor")
	e.create(map[string]any{"RoomId": "a1", "Owner_Account": "anchor", "SeatTemplate": "AudioSalon", "MaxSeatCount": 3,
		"KeepOwnerOnSeat": false, "TakeSeatMode": "ApplyToTake"})
	anchor, guest, other := e.dial(t, "anchor"), e.dial(t, "guest"), e.dial(t, "other")
	for _, c := range []*client.Conn{anchor, guest, other} {
		rpc(t, c, "enterRoom", map[string]any{"roomId": "a1"}, nil)
	}
	type request struct {
		RequestID     string `json:"requestId"`
		RequestAction string `json:"requestAction"`
		UserID        string `json:"userId"`
		SeatIndex     int    `json:"seatIndex"`
	}
	apply := func(c *client.Conn, timeout int) request {
		t.Helper()
		var res struct {
			Request *request `json:"request"`
		}
		rpc(t, c, "takeSeat", map[string]any{"roomId": "a1", "seatIndex": -1, "timeout": timeout}, &res)
		if res.Request == nil || res.Request.RequestAction != "requestToTakeSeat" {
			t.Fatalf("takeSeat in an ApplyToTake room answered %+v", res)
		}
		var got struct {
			Request request `json:"request"`
		}
		json.Unmarshal(await(t, anchor, "onRequestReceived"), &got)
		if got.Request != *res.Request {
			t.Errorf("onRequestReceived %+v, want %+v", got.Request, *res.Request)
		}
		return *res.Request
	}

	// Apply, approve: the applicant is told and sits down.
	req := apply(guest, 0)
	var apps struct {
		RequestList []request `json:"requestList"`
	}
	rpc(t, anchor, "getSeatApplicationList", map[string]any{"roomId": "a1"}, &apps)
	if len(apps.RequestList) != 1 || apps.RequestList[0].UserID != "guest" {
		t.Errorf("getSeatApplicationList %+v", apps)
	}
	wantCode(t, rpcErr(other, "getSeatApplicationList", map[string]any{"roomId": "a1"}, nil), 100006)
	wantCode(t, rpcErr(other, "responseRemoteRequest", map[string]any{"roomId": "a1", "requestId": req.RequestID, "agree": true}, nil), 100006)
	wantCode(t, rpcErr(guest, "takeSeat", map[string]any{"roomId": "a1", "seatIndex": 2}, nil), 100202)
	rpc(t, anchor, "responseRemoteRequest", map[string]any{"roomId": "a1", "requestId": req.RequestID, "agree": true}, nil)
	await(t, guest, "onRequestAccepted")
	if seats, _ := awaitSeats(t, other); seats[0] != "guest" {
		t.Errorf("after the approval: %q", seats)
	}

	// Apply, cancel: the owner is told.
	req = apply(other, 0)
	rpc(t, other, "cancelRequest", map[string]any{"roomId": "a1", "requestId": req.RequestID}, nil)
	var cancelled struct {
		Request request `json:"request"`
	}
	json.Unmarshal(await(t, anchor, "onRequestCancelled"), &cancelled)
	if cancelled.Request.RequestID != req.RequestID {
		t.Errorf("onRequestCancelled %+v", cancelled)
	}

	// Apply, reject.
	req = apply(other, 0)
	rpc(t, anchor, "responseRemoteRequest", map[string]any{"roomId": "a1", "requestId": req.RequestID, "agree": false}, nil)
	await(t, other, "onRequestRejected")

	// Apply with a timeout of 5 s: the server's clock passes it and the applicant is told.
	req = apply(other, 5)
	e.clk.Advance(6 * time.Second)
	var timedOut struct {
		Request request `json:"request"`
	}
	json.Unmarshal(await(t, other, "onRequestTimeout"), &timedOut)
	if timedOut.Request.RequestID != req.RequestID {
		t.Errorf("onRequestTimeout %+v", timedOut)
	}
	await(t, anchor, "onRequestCancelled")
	wantCode(t, rpcErr(anchor, "responseRemoteRequest", map[string]any{"roomId": "a1", "requestId": req.RequestID, "agree": true}, nil), 100002)
}
