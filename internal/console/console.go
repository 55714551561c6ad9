// Package console serves roomd's web console: a few static pages, embedded in the binary,
// that work offline (no build step, no CDN). The console is an ordinary client of the REST
// API: it signs nothing and holds no secret of roomd's. The App admin logs in with an
// SDKAppID, an admin UserID and that admin's UserSig, which the page keeps in the browser's
// session storage and sends in the query of every /v4/… call, as any REST client does; roomd
// checks it there. So serving the pages themselves needs no authentication.
package console

import (
	"embed"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Prefix is the path the console is served under.
const Prefix = "/console/"

//go:embed assets
var assets embed.FS

// Handler serves the console's files under Prefix, and redirects "/console" to Prefix.
func Handler() http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded directory is part of the build
	}
	files := http.StripPrefix(Prefix, http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path == strings.TrimSuffix(Prefix, "/") {
			http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
			return
		}
		h := w.Header()
		// Everything the pages load comes from roomd itself; the UserSig travels in the URL
		// fragment and in same-origin API calls only.
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}

// Handles reports whether path belongs to the console.
func Handles(path string) bool {
	return path == strings.TrimSuffix(Prefix, "/") || strings.HasPrefix(path, Prefix)
}

// LoginURL returns the console's address for base (e.g. "http://127.0.0.1:8080") with the
// credentials in the URL fragment, which the browser never sends to a server.
func LoginURL(base string, sdkappid uint64, identifier, usersig string) string {
	return base + Prefix + "#sdkappid=" + strconv.FormatUint(sdkappid, 10) + "&identifier=" + url.QueryEscape(identifier) +
		"&usersig=" + url.QueryEscape(usersig)
}
