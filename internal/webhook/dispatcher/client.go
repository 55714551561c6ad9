package dispatcher

import (
	"net/http"
	"time"

	"github.com/roomd/roomd/internal/netguard"
)

// NewClient returns the outbound HTTP client of callbacks (After- and Before-callbacks
// alike), guarded by netguard's default rules: see NewGuardedClient.
func NewClient(conns int) *http.Client {
	return NewGuardedClient(conns, netguard.New(netguard.Options{}))
}

// NewGuardedClient returns an HTTP client that keeps enough idle connections per App
// backend for the given number of concurrent attempts, and connects only through g:
// every address it dials is checked when it is dialled, after name resolution, so a
// callback URL whose name resolves to a cloud metadata address is refused with a
// *netguard.RefusedError. Redirects are never followed (a 3xx reply is the reply; see
// webhook.RedirectError), and proxies from the environment (HTTP_PROXY) are not used, since the
// guard could not see past a proxy. Timeouts are set per attempt. Requests to plain
// http:// backends go over roomd's own HTTP/1.1 keep-alive connections (leanTransport:
// one write per request, no connection goroutines); https:// ones over net/http's
// Transport, with HTTP/2 where the backend offers it. A Dispatcher given this client
// sends its attempts to plain http:// backends without http.Client at all (direct.go).
func NewGuardedClient(conns int, g *netguard.Guard) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.MaxIdleConns = conns * 2
	t.MaxIdleConnsPerHost = conns
	t.IdleConnTimeout = 90 * time.Second
	t.DisableCompression = true
	t.DialContext = g.DialContext
	// Plain http:// backends get the lean HTTP/1.1 transport (lean.go); https:// and
	// anything it does not write itself go through t.
	lean := &leanTransport{dial: g.DialContext, fallback: t, maxIdle: conns, idleTimeout: t.IdleConnTimeout}
	return &http.Client{
		Transport: lean,
		// Callbacks are POSTs to a configured URL; a redirect is not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
