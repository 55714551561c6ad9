package faulttest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/testkit"
)

// client calls the admin REST API of one app as its admin, through testkit's client, at
// the base URL each call names (roomd listens on a new port after a restart).
type client struct {
	kit *testkit.Client
	sig string
}

// newClient returns a client of app with a fresh admin UserSig and its own connections.
func newClient(t *testing.T, app uint64, key string) *client {
	t.Helper()
	kc := testkit.NewClient(t, "", app, key, adminID)
	return &client{kit: kc, sig: kc.Sig}
}

// envelope is the Tencent REST reply.
type envelope struct{ testkit.Envelope }

func (e envelope) ok() bool { return e.OK() }

// call POSTs body (marshalled unless it is already []byte) to /v4/api. The error is a
// transport failure or a reply that is not an HTTP 200 Tencent envelope; a Tencent error
// code comes back in the envelope with a nil error.
func (c *client) call(ctx context.Context, base, api string, body any) (envelope, error) {
	env, err := c.kit.At(base).Call(ctx, api, body)
	return envelope{env}, err
}

// mustCall makes a call that has to succeed.
func (c *client) mustCall(t *testing.T, base, api string, body any) envelope {
	t.Helper()
	return envelope{c.kit.At(base).MustCall(t, api, body)}
}

// importAccounts imports ids (at most 100) and fails the test unless all were imported.
func (c *client) importAccounts(t *testing.T, base string, ids []string) {
	t.Helper()
	env := c.mustCall(t, base, "im_open_login_svc/multiaccount_import", map[string]any{"Accounts": ids})
	if len(env.FailAccounts) > 0 {
		t.Fatalf("multiaccount_import failed for %v", env.FailAccounts)
	}
}

// createRoom creates a Live room owned by the admin.
func (c *client) createRoom(t *testing.T, base, id string) {
	t.Helper()
	c.mustCall(t, base, "live_engine_http_srv/create_room", map[string]any{"RoomInfo": map[string]any{"RoomId": id, "RoomType": "Live"}})
}

// roomOwner returns a room's owner as get_room_info reports it.
func (c *client) roomOwner(ctx context.Context, base, id string) (string, error) {
	env, err := c.call(ctx, base, "live_engine_http_srv/get_room_info", map[string]string{"RoomId": id})
	if err != nil {
		return "", err
	}
	if !env.ok() {
		return "", fmt.Errorf("get_room_info %s: error %d: %s", id, env.ErrorCode, env.ErrorInfo)
	}
	var resp struct {
		RoomInfo struct {
			Owner_Account string
		}
	}
	if err := json.Unmarshal(env.Response, &resp); err != nil {
		return "", err
	}
	return resp.RoomInfo.Owner_Account, nil
}

// Receiver modes.
const (
	modeOK   = testkit.ModeOK   // answer 200 with a JSON object
	mode503  = testkit.ModeFail // answer 503
	modeHang = testkit.ModeHang // never answer (until the client gives up or the test ends)
)

// arrival is one request the receiver got.
type arrival struct {
	N      int
	At     time.Time
	ID     string // webhook-id header
	Path   string // the URL path it was sent to
	Query  url.Values
	Body   string
	Status int // what the receiver answered; 0 when it hung and never answered
	// HungFor is how long a hung request waited before the client gave up.
	HungFor time.Duration

	// Parsed from Body.
	Command, Room, Current, Original string
}

// receiver is an App backend in the test process (testkit.Receiver) that records every
// request. It can answer OK, answer 503, hang, or be down (its listener closed) and come
// back on the same address.
type receiver struct {
	*testkit.Receiver

	mu     sync.Mutex
	owners [][2]string // by arrival number: the body's original and current owner, parsed once
}

// newReceiver starts a receiver on a free loopback port; it is shut down when the test ends.
func newReceiver(t *testing.T) *receiver {
	t.Helper()
	return &receiver{Receiver: testkit.NewReceiver(t)}
}

// URL is the callback URL to configure.
func (r *receiver) URL() string { return r.Receiver.URL() + "/callback" }

// setMode switches how new requests are answered. Leaving modeHang frees the requests that
// hang at that moment (they end without an answer, as if the backend had crashed).
func (r *receiver) setMode(m testkit.Mode) { r.SetMode(m) }

// down closes the listener and every open connection: callbacks get connection refused.
func (r *receiver) down() { r.Down() }

// up listens again on the same address.
func (r *receiver) up() { r.Up() }

// arrivals turns recorded callbacks into arrivals.
func (r *receiver) arrivals(cbs []testkit.Callback) []arrival {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]arrival, len(cbs))
	for i, c := range cbs {
		for len(r.owners) <= c.N {
			r.owners = append(r.owners, [2]string{})
			var cb struct{ CurrentOwner_Account, OriginalOwner_Account string }
			if json.Unmarshal(cbs[len(r.owners)-1].Body, &cb) == nil {
				r.owners[len(r.owners)-1] = [2]string{cb.OriginalOwner_Account, cb.CurrentOwner_Account}
			}
		}
		out[i] = arrival{N: c.N, At: c.At, ID: c.ID, Path: c.Path, Query: c.Query, Body: string(c.Body), Status: c.Status, HungFor: c.HungFor,
			Command: c.Command, Room: c.RoomID, Original: r.owners[c.N][0], Current: r.owners[c.N][1]}
	}
	return out
}

// all returns a copy of every request received so far, in arrival order.
func (r *receiver) all() []arrival { return r.arrivals(r.All()) }

// delivered returns the requests answered 200, in arrival order.
func (r *receiver) delivered() []arrival {
	var out []arrival
	for _, a := range r.all() {
		if a.Status == http.StatusOK {
			out = append(out, a)
		}
	}
	return out
}
