package webhook

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/roomd/roomd/internal/netguard"
)

// TransportError returns the text recorded in the delivery log for an error of
// http.Client.Do: a refused address is reported as the guard's own message (without the
// request URL, which may carry a Sign); anything else as it is.
func TransportError(err error) string {
	var re *netguard.RefusedError
	if errors.As(err, &re) {
		return re.Error()
	}
	return err.Error()
}

// RedirectError returns the failure text of a reply with a redirect status (3xx), or ""
// for any other status. The redirect is not followed: its target could be an address the
// guard would refuse, and a callback is a POST to the configured URL only.
func RedirectError(resp *http.Response) string {
	return RedirectText(resp.StatusCode, resp.Header.Get("Location"))
}

// RedirectText is RedirectError for a reply's status and Location header value.
func RedirectText(status int, loc string) string {
	if status < 300 || status > 399 {
		return ""
	}
	if loc == "" {
		return fmt.Sprintf("HTTP status %d: redirect not followed", status)
	}
	if len(loc) > 200 {
		loc = loc[:200] + "…"
	}
	return fmt.Sprintf("HTTP status %d: redirect to %s not followed (callbacks never follow redirects)", status, loc)
}
