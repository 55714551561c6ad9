package client_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/roomd/roomd/client"
)

func dial(t *testing.T, endpoint, user string, buf int) *client.Conn {
	t.Helper()
	c, err := client.Dial(context.Background(), endpoint, client.Options{
		SDKAppID: 1400000000, UserID: user, UserSig: "sig-" + user, NotificationBuffer: buf,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestConcurrentCalls(t *testing.T) {
	endpoint, stop := startServer()
	defer stop()
	c := dial(t, endpoint, "alice", 0)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Go(func() {
			var info map[string]string
			room := "r1"
			if i%2 == 1 {
				room = fmt.Sprint("x", i)
			}
			err := c.Call(context.Background(), "fetchRoomInfo", map[string]string{"roomId": room}, &info)
			var e *client.Error
			switch {
			case room == "r1" && (err != nil || info["roomId"] != "r1"):
				errs <- fmt.Errorf("call %d: %v %v", i, info, err)
			case room != "r1" && (!errors.As(err, &e) || e.Code != 100004):
				errs <- fmt.Errorf("call %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestCallAfterClose(t *testing.T) {
	endpoint, stop := startServer()
	defer stop()
	c := dial(t, endpoint, "alice", 0)
	c.Close()
	if err := c.Call(context.Background(), "fetchRoomInfo", nil, nil); !errors.Is(err, client.ErrClosed) {
		t.Fatalf("Call after Close: %v", err)
	}
	if _, ok := <-c.Notifications(); ok {
		t.Fatal("Notifications not closed")
	}
}

func TestCallContext(t *testing.T) {
	endpoint, stop := startServer()
	defer stop()
	c := dial(t, endpoint, "alice", 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Call(ctx, "fetchRoomInfo", map[string]string{"roomId": "r1"}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Call with a cancelled context: %v", err)
	}
	// The connection is still usable; the late response was discarded.
	if err := c.Call(context.Background(), "fetchRoomInfo", map[string]string{"roomId": "r1"}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestNotificationOverflow(t *testing.T) {
	endpoint, stop := startServer()
	defer stop()
	alice := dial(t, endpoint, "alice", 1)
	if err := alice.Call(context.Background(), "enterRoom", map[string]string{"roomId": "r1"}, nil); err != nil {
		t.Fatal(err)
	}
	// alice's buffer now holds her own entry; two more pushes overflow it.
	for _, u := range []string{"bob", "carol"} {
		if err := dial(t, endpoint, u, 0).Call(context.Background(), "enterRoom", map[string]string{"roomId": "r1"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-alice.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("an overflowing connection stayed open")
	}
	if !errors.Is(alice.Err(), client.ErrNotificationOverflow) {
		t.Fatalf("Err = %v", alice.Err())
	}
	n := 0
	for range alice.Notifications() { // what was buffered is still delivered
		n++
	}
	if n != 1 {
		t.Fatalf("%d buffered notifications, want 1", n)
	}
}
