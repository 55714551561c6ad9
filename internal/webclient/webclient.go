// Package webclient serves what a browser needs to use roomd's client API: the JavaScript
// client (/v1/client.js, its types /v1/client.d.ts) always, and — only while roomd runs the
// development app (no apps configured) — a demo page (/demo) with a UserSig endpoint for it
// (/demo/usersig).
//
// The security boundary: /demo/usersig signs a UserSig for any UserID it is asked for, with
// the development app's secret key, to whoever can reach the listener. That is what a
// development server is for (the key is printed at start-up and kept in the data
// directory), and it is never served when apps are configured: a configured app's key never
// signs for a browser. Even in development it refuses to sign for an App admin, whose
// UserSig would open the REST API. Production pages get UserSigs from the App backend, as
// with Tencent.
package webclient

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	_ "embed"

	roomdclient "github.com/roomd/roomd/js/roomd-client"

	"github.com/roomd/roomd/internal/auth/usersig"
)

// The paths this package serves.
const (
	PathJS      = "/v1/client.js"
	PathTypes   = "/v1/client.d.ts"
	PathDemo    = "/demo"
	PathDemoSig = "/demo/usersig"
)

// DemoSigExpiry is how long a UserSig of the demo endpoint is valid.
const DemoSigExpiry = 24 * time.Hour

//go:embed demo.html
var demoHTML []byte

// DevApp is the development app, whose key the demo signs with.
type DevApp struct {
	SDKAppID  uint64
	SecretKey string
	Admins    []string
}

// Options configure the handler.
type Options struct {
	// Dev is the development app when roomd runs it, else nil: no demo is served.
	Dev *DevApp
	// Now is the clock of the UserSigs the demo signs; time.Now when nil.
	Now func() time.Time
}

// Register adds the package's routes to mux and returns their paths (for the REST API's
// root handler, which hands every other path to the REST API).
func Register(mux *http.ServeMux, o Options) []string {
	if o.Now == nil {
		o.Now = time.Now
	}
	mux.Handle("GET "+PathJS, asset(roomdclient.JS, "text/javascript; charset=utf-8", PathTypes))
	mux.Handle("GET "+PathTypes, asset(roomdclient.Types, "application/typescript; charset=utf-8", ""))
	paths := []string{PathJS, PathTypes}
	if o.Dev == nil {
		return paths
	}
	mux.Handle("GET "+PathDemo, demoPage())
	mux.Handle("POST "+PathDemoSig, demoSig(*o.Dev, o.Now))
	return append(paths, PathDemo, PathDemoSig)
}

// asset serves an embedded file with a strong ETag: clients revalidate every time
// (no-cache), and an unchanged file costs a 304. The URL is not versioned, so a longer
// lifetime would keep an old client after an upgrade of roomd. The files are public and
// carry no credentials: any origin may load them (a module script is fetched with CORS).
func asset(body []byte, contentType, types string) http.Handler {
	sum := sha256.Sum256(body)
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", etag)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Access-Control-Allow-Origin", "*")
		if types != "" {
			// Deno (and tools that follow it) takes the module's types from this header.
			h.Set("X-TypeScript-Types", types)
		}
		if etagMatches(r.Header.Get("If-None-Match"), etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		if r.Method == http.MethodHead {
			return
		}
		w.Write(body)
	})
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

func demoPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		w.Write(demoHTML)
	})
}

// demoSig answers POST /demo/usersig {"userId":"…"} with
// {"sdkAppId":…,"userId":"…","userSig":"…","expireSeconds":…}. Errors are
// {"code":…,"message":"…"}, as the client endpoint's refusals.
func demoSig(dev DevApp, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			UserID string `json:"userId"`
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 4096))
		if err == nil {
			err = json.Unmarshal(body, &req)
		}
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"code": 100002, "message": "invalid parameter: the body must be {\"userId\":\"…\"}"})
			return
		}
		if err := checkUserID(req.UserID); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"code": 100002, "message": "invalid parameter: userId " + err.Error()})
			return
		}
		if slices.Contains(dev.Admins, req.UserID) {
			writeJSON(w, http.StatusForbidden, map[string]any{"code": 100006,
				"message": "the demo signs UserSigs of App users only, not of App admins: " + req.UserID})
			return
		}
		sig, err := usersig.Sign(dev.SDKAppID, dev.SecretKey, req.UserID, int64(DemoSigExpiry/time.Second), now())
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]any{"code": 100001, "message": "internal error: cannot sign"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"sdkAppId": dev.SDKAppID, "userId": req.UserID, "userSig": sig,
			"expireSeconds": int64(DemoSigExpiry / time.Second)})
	})
}

// checkUserID applies Tencent's UserID rules that matter here: 1 to 32 bytes, printable.
func checkUserID(id string) error {
	switch {
	case id == "":
		return errors.New("is required")
	case len(id) > 32:
		return errors.New("is longer than 32 bytes")
	case !utf8.ValidString(id):
		return errors.New("is not UTF-8")
	case strings.IndexFunc(id, func(r rune) bool { return !unicode.IsPrint(r) || unicode.IsSpace(r) }) >= 0:
		return errors.New("has a space or an unprintable character")
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
