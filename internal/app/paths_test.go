package app_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/roomd/roomd/internal/app"
)

// TestServerPathsOutsideV4 pins, on the server's whole handler, that a path outside
// /v4/{service}/{command} gets Tencent's envelope with 60009 and HTTP 200 (it used to get
// net/http's 404 or a 301/307 redirect), and that /metrics and /healthz still answer.
func TestServerPathsOutsideV4(t *testing.T) {
	ts := startServer(t, app.Options{})
	query := "?sdkappid=1400000001&identifier=admin&usersig=" + ts.sig + "&random=1&contenttype=json"
	for _, path := range []string{"/v4", "/v4/", "/v4/a//b", "/v4/a/b/c", "/v5/x", "/"} {
		mustFail(t, ts.post(ts.Base+path+query, `{}`), 60009)
	}
	for _, path := range []string{"/metrics", "/healthz"} {
		resp, err := ts.c.HTTP.Get(ts.Base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || strings.Contains(string(b), "ErrorCode") {
			t.Errorf("%s: HTTP %d %.80s", path, resp.StatusCode, b)
		}
	}
}
