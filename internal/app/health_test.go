package app_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/app"
	"github.com/roomd/roomd/internal/config"
	"github.com/roomd/roomd/internal/testkit"
	_ "modernc.org/sqlite"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// GET /readyz is 200 while the store answers and the schema is this build's, 503 with the
// reason otherwise, and 503 from the moment a graceful stop begins.
func TestReadyz(t *testing.T) {
	ts := startServer(t, app.Options{})
	if code, body := get(t, ts.Base+"/readyz"); code != 200 || body != "ready\n" {
		t.Fatalf("readyz = %d %q", code, body)
	}
	if code, _ := get(t, ts.Base+"/healthz"); code != 200 {
		t.Errorf("healthz = %d", code)
	}
	if _, body := get(t, ts.Base+"/metrics"); !strings.Contains(body, "roomd_ready 1") || !strings.Contains(body, "roomd_shutting_down 0") {
		t.Errorf("metrics lack roomd_ready 1 / roomd_shutting_down 0")
	}

	// A database whose schema is behind this build's migrations is not ready.
	db, err := sql.Open("sqlite", app.DBPath(ts.Dir))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	db.QueryRow("PRAGMA user_version").Scan(&v)
	if _, err := db.Exec("PRAGMA user_version = 1"); err != nil {
		t.Fatal(err)
	}
	code, body := get(t, ts.Base+"/readyz")
	if code != 503 || !strings.Contains(body, "migrations not applied: schema version 1, this build needs") {
		t.Errorf("readyz with an old schema = %d %q", code, body)
	}
	if _, body := get(t, ts.Base+"/metrics"); !strings.Contains(body, "roomd_ready 0") {
		t.Errorf("metrics lack roomd_ready 0")
	}
	db.Exec(fmt.Sprintf("PRAGMA user_version = %d", v))
	if code, _ := get(t, ts.Base+"/readyz"); code != 200 {
		t.Errorf("readyz after restoring the schema = %d", code)
	}

	// Once the server stops, it is not ready (checked on the server itself: the listener
	// is closed), and a closed store is unreachable.
	ts.Close()
	if err := ts.Srv.Ready(context.Background()); err == nil || err.Error() != "shutting down" {
		t.Errorf("Ready after Close = %v", err)
	}
}

// localOnlyDial dials 127.0.0.1 only and fails the test for anything else: with the guard
// broken, the test fails instead of connecting off the machine.
func localOnlyDial(t *testing.T) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" {
			t.Errorf("the outbound guard let %s through", addr)
			return nil, errors.New("test dialer: only 127.0.0.1")
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
}

func metadataResolver(_ context.Context, _, host string) ([]netip.Addr, error) {
	if host == "metadata.test" {
		return []netip.Addr{netip.MustParseAddr("169.254.169.254")}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// The server's callbacks go through the outbound guard: a callback URL that resolves to
// the metadata address is refused, the delivery log shows why, and the refusal is counted.
// A receiver on 127.0.0.1 that redirects there is not followed.
func TestOutboundGuardInServer(t *testing.T) {
	off := false
	noRetry := func(c *config.Config) { c.Apps[0].Callback.Retry.Enabled = &off }
	ts := startServer(t, app.Options{LookupIP: metadataResolver, Dial: localOnlyDial(t)},
		withCallback("http://metadata.test/callback", cmdCreate), noRetry)
	ts.importAccounts("a", "b")
	ts.createRoom("r1", "a")
	waitState(t, ts, "dead", 1)
	var list struct {
		Events []struct {
			LastError string
		}
	}
	env := mustOK(t, ts.call("roomd_delivery/list_events", `{"State":"dead"}`))
	json.Unmarshal(env.Response, &list)
	want := "refused to connect to metadata.test (169.254.169.254): cloud metadata address"
	if len(list.Events) != 1 || !strings.HasPrefix(list.Events[0].LastError, want) {
		t.Errorf("dead events = %s, want LastError %q", env.Response, want)
	}
	testkit.Eventually(t, "the refusal counted", 5*time.Second, func() (bool, string) {
		_, body := get(t, ts.Base+"/metrics")
		return strings.Contains(body, `roomd_outbound_refusals_total{reason="metadata"} 1`), "no refusal metric"
	})

	rc := testkit.NewReceiver(t)
	rc.Respond(func(w http.ResponseWriter, r *http.Request, _ testkit.Callback) {
		http.Redirect(w, r, "http://metadata.test/latest/", http.StatusFound)
	})
	mustOK(t, ts.call("live_config/update_callback", map[string]any{"Url": rc.URL(), "CallbackCommandList": []string{cmdCreate}}))
	ts.createRoom("r2", "b")
	waitState(t, ts, "dead", 2)
	env = mustOK(t, ts.call("roomd_delivery/list_events", `{"State":"dead"}`))
	if !strings.Contains(string(env.Response), "HTTP status 302: redirect to http://metadata.test/latest/ not followed") {
		t.Errorf("dead events = %s, want the redirect refused", env.Response)
	}
}
