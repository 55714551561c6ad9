package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/roomd/roomd/client"
	"github.com/roomd/roomd/internal/api/clientws"
	"github.com/roomd/roomd/internal/errcode"
)

// startServer starts an in-process client API server with a tiny method table: enterRoom
// subscribes the caller to a room and tells the room; fetchRoomInfo knows only room r1. It
// accepts a UserSig "sig-<userid>" for SDKAppID 1400000000, and returns the endpoint URL.
func startServer() (endpoint string, stop func()) {
	var srv *clientws.Server
	srv = clientws.New(clientws.Config{
		Authenticate: func(_ context.Context, app, user, sig string) (clientws.Identity, error) {
			if app != "1400000000" || sig != "sig-"+user {
				return clientws.Identity{}, errcode.New(errcode.SigMismatch, "usersig does not match")
			}
			return clientws.Identity{App: 1400000000, UserID: user}, nil
		},
		Methods: map[string]clientws.Method{
			"enterRoom": func(_ context.Context, s *clientws.Session, params json.RawMessage) (any, error) {
				var p struct {
					RoomID string `json:"roomId"`
				}
				if err := json.Unmarshal(params, &p); err != nil || p.RoomID == "" {
					return nil, errcode.Invalid("roomId", "is required")
				}
				if err := srv.Hub().Subscribe(s, p.RoomID); err != nil {
					return nil, err
				}
				srv.Hub().PublishRoom(s.App(), p.RoomID, "onRemoteUserEnterRoom",
					map[string]any{"roomId": p.RoomID, "userInfo": map[string]string{"userId": s.UserID()}})
				return nil, nil
			},
			"fetchRoomInfo": func(_ context.Context, s *clientws.Session, params json.RawMessage) (any, error) {
				var p struct {
					RoomID string `json:"roomId"`
				}
				json.Unmarshal(params, &p)
				if p.RoomID != "r1" {
					return nil, errcode.New(errcode.RoomNotFound, "room does not exist")
				}
				return map[string]string{"roomId": "r1", "roomName": "Friday live", "roomOwner": "alice"}, nil
			},
		},
	})
	hs := httptest.NewServer(srv)
	return "ws" + strings.TrimPrefix(hs.URL, "http") + "/v1/client", func() {
		srv.Shutdown(context.Background())
		hs.Close()
	}
}

// Call a method and decode its result.
func ExampleConn_Call() {
	endpoint, stop := startServer()
	defer stop()
	ctx := context.Background()

	conn, err := client.Dial(ctx, endpoint, client.Options{
		SDKAppID: 1400000000, UserID: "alice", UserSig: "sig-alice", Platform: "Windows",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()

	var info struct {
		RoomID    string `json:"roomId"`
		RoomName  string `json:"roomName"`
		RoomOwner string `json:"roomOwner"`
	}
	if err := conn.Call(ctx, "fetchRoomInfo", map[string]string{"roomId": "r1"}, &info); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s %q owned by %s\n", info.RoomID, info.RoomName, info.RoomOwner)

	// An error response is a *client.Error carrying the Tencent code.
	err = conn.Call(ctx, "fetchRoomInfo", map[string]string{"roomId": "nope"}, nil)
	var e *client.Error
	if errors.As(err, &e) {
		fmt.Println("error", e.Code, e.Message)
	}
	// Output:
	// r1 "Friday live" owned by alice
	// error 100004 room does not exist
}

// Receive the server's pushes.
func ExampleConn_Notifications() {
	endpoint, stop := startServer()
	defer stop()
	ctx := context.Background()

	alice, err := client.Dial(ctx, endpoint, client.Options{SDKAppID: 1400000000, UserID: "alice", UserSig: "sig-alice"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer alice.Close()
	bob, err := client.Dial(ctx, endpoint, client.Options{SDKAppID: 1400000000, UserID: "bob", UserSig: "sig-bob"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer bob.Close()

	if err := alice.Call(ctx, "enterRoom", map[string]string{"roomId": "r1"}, nil); err != nil {
		fmt.Println(err)
		return
	}
	<-alice.Notifications() // alice's own entry
	if err := bob.Call(ctx, "enterRoom", map[string]string{"roomId": "r1"}, nil); err != nil {
		fmt.Println(err)
		return
	}
	n := <-alice.Notifications()
	fmt.Println(n.Method, string(n.Params))
	// Output:
	// onRemoteUserEnterRoom {"roomId":"r1","userInfo":{"userId":"bob"}}
}

// A connection refused before the upgrade is an *Error with the HTTP status.
func ExampleDial() {
	endpoint, stop := startServer()
	defer stop()

	_, err := client.Dial(context.Background(), endpoint, client.Options{SDKAppID: 1400000000, UserID: "alice", UserSig: "forged"})
	var e *client.Error
	if errors.As(err, &e) {
		fmt.Println(e.HTTPStatus, e.Code, e.Message)
	}
	// Output:
	// 401 70009 usersig does not match
}
