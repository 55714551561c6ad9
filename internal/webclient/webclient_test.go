package webclient_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	roomdclient "github.com/roomd/roomd/js/roomd-client"

	"github.com/roomd/roomd/internal/auth/usersig"
	"github.com/roomd/roomd/internal/webclient"
)

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func server(t *testing.T, dev *webclient.DevApp) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	webclient.Register(mux, webclient.Options{Dev: dev, Now: func() time.Time { return now }})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func TestClientAssets(t *testing.T) {
	srv := server(t, nil)
	for _, c := range []struct {
		path, ctype string
		body        []byte
	}{
		{webclient.PathJS, "text/javascript; charset=utf-8", roomdclient.JS},
		{webclient.PathTypes, "application/typescript; charset=utf-8", roomdclient.Types},
	} {
		res, body := get(t, srv.URL+c.path)
		if res.StatusCode != 200 || !bytes.Equal(body, c.body) {
			t.Fatalf("GET %s: %d, %d bytes; want 200 and the embedded file", c.path, res.StatusCode, len(body))
		}
		h := res.Header
		if h.Get("Content-Type") != c.ctype || h.Get("Cache-Control") != "no-cache" || h.Get("Access-Control-Allow-Origin") != "*" ||
			h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s headers: %v", c.path, h)
		}
		etag := h.Get("ETag")
		if !strings.HasPrefix(etag, `"`) {
			t.Fatalf("GET %s: ETag %q", c.path, etag)
		}
		res, body = get(t, srv.URL+c.path, "If-None-Match", etag)
		if res.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("GET %s If-None-Match: %d, %d bytes; want 304", c.path, res.StatusCode, len(body))
		}
		res, _ = get(t, srv.URL+c.path, "If-None-Match", `"other"`)
		if res.StatusCode != 200 {
			t.Errorf("GET %s with another ETag: %d", c.path, res.StatusCode)
		}
	}
	res, _ := get(t, srv.URL+webclient.PathJS)
	if res.Header.Get("X-TypeScript-Types") != webclient.PathTypes {
		t.Errorf("X-TypeScript-Types = %q", res.Header.Get("X-TypeScript-Types"))
	}
	// Without the development app there is no demo.
	for _, p := range []string{webclient.PathDemo} {
		if res, _ := get(t, srv.URL+p); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s without the development app: %d, want 404", p, res.StatusCode)
		}
	}
	if res, err := http.Post(srv.URL+webclient.PathDemoSig, "application/json", strings.NewReader(`{"userId":"alice"}`)); err != nil || res.StatusCode != http.StatusNotFound {
		t.Errorf("POST %s without the development app: %v %v, want 404", webclient.PathDemoSig, res.Status, err)
	}
}

func TestDemo(t *testing.T) {
	dev := &webclient.DevApp{SDKAppID: 1400000000, SecretKey: "dev-key", Admins: []string{"administrator"}}
	srv := server(t, dev)
	res, body := get(t, srv.URL+webclient.PathDemo)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/html; charset=utf-8" ||
		!bytes.Contains(body, []byte(`from '/v1/client.js'`)) {
		t.Fatalf("GET /demo: %d %v", res.StatusCode, res.Header)
	}
	post := func(body string) (int, map[string]any) {
		res, err := http.Post(srv.URL+webclient.PathDemoSig, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("POST %s: Cache-Control %q", body, res.Header.Get("Cache-Control"))
		}
		var out map[string]any
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, out
	}
	status, out := post(`{"userId":"alice"}`)
	if status != 200 || out["userId"] != "alice" || out["sdkAppId"] != float64(1400000000) {
		t.Fatalf("sign alice: %d %v", status, out)
	}
	if _, err := usersig.Verify(out["userSig"].(string), 1400000000, "dev-key", "alice", now.Add(23*time.Hour)); err != nil {
		t.Errorf("the demo's UserSig does not verify: %v", err)
	}
	for body, want := range map[string][2]float64{
		`{"userId":"administrator"}`:                   {403, 100006},
		`{"userId":""}`:                                {400, 100002},
		`{"userId":"a b"}`:                             {400, 100002},
		`{"userId":"` + strings.Repeat("x", 33) + `"}`: {400, 100002},
		`not json`:                                     {400, 100002},
	} {
		status, out := post(body)
		if float64(status) != want[0] || out["code"] != want[1] || out["userSig"] != nil {
			t.Errorf("POST %s = %d %v, want %v", body, status, out, want)
		}
	}
	if res, _ := get(t, srv.URL+webclient.PathDemoSig+"?userId=alice"); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET %s: %d, want 405", webclient.PathDemoSig, res.StatusCode)
	}
}
