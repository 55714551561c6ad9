package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/app"
	"github.com/roomd/roomd/internal/auth/usersig"
	"github.com/roomd/roomd/internal/config"
)

// TestServerPathsOutsideV4 pins, on the server's whole handler, that a path outside
// /v4/{service}/{command} gets Tencent's envelope with 60009 and HTTP 200 (it used to get
// net/http's 404 or a 301/307 redirect), and that /metrics and /healthz still answer.
func TestServerPathsOutsideV4(t *testing.T) {
	const appID, key = 1400000002, "paths-test-key-0123456789abcdef"
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Apps = []config.App{{SDKAppID: appID, SecretKey: key, Admins: []string{"admin"}}}
	cfg.Apps[0].ApplyDefaults()
	srv, err := app.NewServer(context.Background(), cfg, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Close(ctx)
	})
	sig, err := usersig.Sign(appID, key, "admin", 86400, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	query := "?sdkappid=1400000002&identifier=admin&usersig=" + sig + "&random=1&contenttype=json"
	for _, path := range []string{"/v4", "/v4/", "/v4/a//b", "/v4/a/b/c", "/v5/x", "/"} {
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "http://roomd"+path+query, strings.NewReader(`{}`)))
		var env struct{ ErrorCode int }
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &env) != nil || env.ErrorCode != 60009 {
			t.Errorf("%s: HTTP %d %s, want HTTP 200 with ErrorCode 60009", path, rec.Code, rec.Body.Bytes())
		}
	}
	for _, path := range []string{"/metrics", "/healthz"} {
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "ErrorCode") {
			t.Errorf("%s: HTTP %d %.80s", path, rec.Code, rec.Body.String())
		}
	}
}
