package clientws_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/api/clientws"
)

// newMethodsEnv is an env whose server has the given methods (and no others); each
// session is subscribed to room "r" when it opens.
func newMethodsEnv(t testing.TB, cfg clientws.Config, methods func(srv func() *clientws.Server) map[string]clientws.Method) *env {
	t.Helper()
	e := &env{opened: make(chan *clientws.Session, 100), closed: make(chan closed, 100)}
	cfg.Authenticate = authenticate
	cfg.Methods = methods(func() *clientws.Server { return e.srv })
	cfg.OnOpen = func(s *clientws.Session) {
		e.srv.Hub().Subscribe(s, "r")
		e.opened <- s
	}
	return e.start(t, cfg)
}

// TestPushesOfACallBeforeItsResponse: the pushes a method makes reach the caller before
// the method's response and reach the other members too, for a call and a notification,
// call after call.
func TestPushesOfACallBeforeItsResponse(t *testing.T) {
	e := newMethodsEnv(t, clientws.Config{}, func(srv func() *clientws.Server) map[string]clientws.Method {
		return map[string]clientws.Method{
			"change": func(_ context.Context, s *clientws.Session, p json.RawMessage) (any, error) {
				var n struct{ N int }
				json.Unmarshal(p, &n)
				for k := range 3 {
					srv().Hub().PublishRoom(testApp, "r", "onChanged", map[string]int{"n": n.N, "k": k})
				}
				return map[string]int{"n": n.N}, nil
			},
		}
	})
	caller, other := rawConn(t, e, "a"), rawConn(t, e, "b")
	t.Cleanup(func() { caller.Close(); other.Close() })
	<-e.opened
	<-e.opened
	cr, or := bufio.NewReader(caller), bufio.NewReader(other)
	for i := range 50 {
		req := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"change","params":{"n":%d}}`, i, i)
		if i%5 == 4 { // a notification: pushes, no response
			req = fmt.Sprintf(`{"jsonrpc":"2.0","method":"change","params":{"n":%d}}`, i)
		}
		writeMasked(t, caller, req)
		var want []string
		for k := range 3 {
			want = append(want, fmt.Sprintf(`{"jsonrpc":"2.0","method":"onChanged","params":{"k":%d,"n":%d}}`, k, i))
		}
		for _, w := range want {
			if got, err := readFrame(or); err != nil || string(got) != w {
				t.Fatalf("other member, call %d: %s (%v), want %s", i, got, err, w)
			}
		}
		if i%5 != 4 {
			want = append(want, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"result":{"n":%d}}`, i, i))
		}
		for _, w := range want {
			if got, err := readFrame(cr); err != nil || string(got) != w {
				t.Fatalf("caller, call %d: %s (%v), want %s", i, got, err, w)
			}
		}
	}
}

// TestSlowCallDoesNotHoldPushes: frames queued for a connection while its call waits are
// written without waiting for the call's response.
func TestSlowCallDoesNotHoldPushes(t *testing.T) {
	release := make(chan struct{})
	e := newMethodsEnv(t, clientws.Config{}, func(srv func() *clientws.Server) map[string]clientws.Method {
		return map[string]clientws.Method{
			"slow": func(context.Context, *clientws.Session, json.RawMessage) (any, error) {
				srv().Hub().PublishRoom(testApp, "r", "onChanged", nil)
				<-release
				return nil, nil
			},
		}
	})
	c := rawConn(t, e, "a")
	t.Cleanup(func() { c.Close() })
	<-e.opened
	r := bufio.NewReader(c)
	writeMasked(t, c, `{"jsonrpc":"2.0","id":1,"method":"slow"}`)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if got, err := readFrame(r); err != nil || string(got) != `{"jsonrpc":"2.0","method":"onChanged","params":{}}` {
		t.Fatalf("while the call waits: %s (%v), want the push", got, err)
	}
	close(release)
	if got, err := readFrame(r); err != nil || string(got) != `{"jsonrpc":"2.0","id":1,"result":{}}` {
		t.Fatalf("after the call: %s (%v), want its response", got, err)
	}
}
