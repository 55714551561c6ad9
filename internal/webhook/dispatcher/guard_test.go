package dispatcher

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/netguard"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

// localOnly is the base dialer of the guard in these tests: it records every address and
// dials only 127.0.0.1, so that even with the guard broken no test connects off this
// machine (the test fails instead).
type localOnly struct {
	t     *testing.T
	mu    sync.Mutex
	asked []string
}

func (l *localOnly) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	l.mu.Lock()
	l.asked = append(l.asked, addr)
	l.mu.Unlock()
	host, _, _ := net.SplitHostPort(addr)
	if host != "127.0.0.1" {
		l.t.Errorf("the guard let %s through to the dialer", addr)
		return nil, errors.New("test dialer: only 127.0.0.1 is dialled")
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

func (l *localOnly) dialled() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.asked...)
}

// testResolver maps the test's host names; anything else does not resolve.
func testResolver(_ context.Context, _, host string) ([]netip.Addr, error) {
	switch host {
	case "metadata.test":
		return []netip.Addr{netip.MustParseAddr("169.254.169.254")}, nil
	case "v6meta.test":
		return []netip.Addr{netip.MustParseAddr("fd00:ec2::254")}, nil
	case "receiver.test":
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func guardedClient(t *testing.T, o netguard.Options) (*http.Client, *localOnly) {
	l := &localOnly{t: t}
	o.LookupIP, o.Dial = testResolver, l.dial
	return NewGuardedClient(4, netguard.New(o)), l
}

// runOne delivers one event with url as the callback URL, retries off, and returns the
// recorded result and the stored event.
func runOne(t *testing.T, f *fixture, client *http.Client, url string) (Result, store.Event) {
	t.Helper()
	f.configs.Update(1, func(c *webhook.Config) {
		c.URL = url
		c.Retry = webhook.RetryPolicy{Enabled: false, MaxAttempts: 1, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}
	})
	results := make(chan Result, 4)
	d := New(Options{Store: f.st, Configs: f.configs, Client: client, Observer: func(r Result) { results <- r }})
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer d.Stop(context.Background())
	f.enqueue(t, d, 1, 1)
	var r Result
	select {
	case r = <-results:
	case <-time.After(20 * time.Second):
		t.Fatal("no attempt recorded")
	}
	ev, err := f.st.EventGet(context.Background(), r.Event.ID)
	if err != nil {
		t.Fatal(err)
	}
	return r, ev
}

// A callback URL whose host resolves to the cloud metadata address is refused when it is
// dialled: nothing is dialled, and the delivery log says why.
func TestGuardRefusesMetadataAddress(t *testing.T) {
	for host, want := range map[string]string{
		"metadata.test":        "refused to connect to metadata.test (169.254.169.254): cloud metadata address",
		"v6meta.test":          "refused to connect to v6meta.test (fd00:ec2::254): AWS IPv6 instance metadata address",
		"169.254.169.254":      "refused to connect to 169.254.169.254: cloud metadata address",
		"[fe80::a9fe:a9fe]":    "refused to connect to fe80::a9fe:a9fe: IPv6 link-local address",
		"[::ffff:169.254.1.2]": "refused to connect to ::ffff:169.254.1.2 (169.254.1.2): link-local address",
		"100.100.100.200":      "refused to connect to 100.100.100.200: Alibaba Cloud metadata address",
		"0.0.0.0":              "refused to connect to 0.0.0.0: \"this network\" address",
	} {
		t.Run(host, func(t *testing.T) {
			f, _ := newFixture(t, nil)
			client, l := guardedClient(t, netguard.Options{})
			r, ev := runOne(t, f, client, "http://"+host+"/callback")
			if r.State != store.EventDead || !strings.HasPrefix(r.Attempt.Error, want) {
				t.Errorf("attempt: state %s, error %q; want dead, %q", r.State, r.Attempt.Error, want)
			}
			if ev.LastError != r.Attempt.Error {
				t.Errorf("event LastError = %q, want the attempt's error", ev.LastError)
			}
			atts, _ := f.st.AttemptList(context.Background(), ev.ID)
			if len(atts) != 1 || atts[0].Error != r.Attempt.Error || atts[0].URL != "http://"+host+"/callback" {
				t.Errorf("attempts = %+v", atts)
			}
			if got := l.dialled(); len(got) != 0 {
				t.Errorf("dialled %v", got)
			}
		})
	}
}

// A receiver on 127.0.0.1 that redirects to the metadata address: the redirect is not
// followed; the attempt fails with the redirect's status and target.
func TestGuardDoesNotFollowRedirects(t *testing.T) {
	f, rc := newFixture(t, func(w http.ResponseWriter, r *http.Request) bool {
		http.Redirect(w, r, "http://metadata.test/latest/meta-data/iam/security-credentials/", http.StatusFound)
		return false
	})
	client, l := guardedClient(t, netguard.Options{})
	r, ev := runOne(t, f, client, rc.URL())
	want := "HTTP status 302: redirect to http://metadata.test/latest/meta-data/iam/security-credentials/ not followed"
	if r.State != store.EventDead || !strings.HasPrefix(r.Attempt.Error, want) || r.Attempt.StatusCode != 302 {
		t.Errorf("attempt: state %s, status %d, error %q; want dead, 302, %q", r.State, r.Attempt.StatusCode, r.Attempt.Error, want)
	}
	if ev.LastError != r.Attempt.Error {
		t.Errorf("event LastError = %q", ev.LastError)
	}
	for _, a := range l.dialled() {
		if !strings.HasPrefix(a, "127.0.0.1:") {
			t.Errorf("dialled %s", a)
		}
	}
}

// outbound.deny refuses a range that is allowed by default (here loopback), and
// outbound.allow lets a range through that a rule refuses.
func TestGuardDenyAndAllowLists(t *testing.T) {
	t.Run("deny", func(t *testing.T) {
		f, rc := newFixture(t, nil)
		client, l := guardedClient(t, netguard.Options{Deny: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
		url := strings.Replace(rc.URL(), "127.0.0.1", "receiver.test", 1)
		r, _ := runOne(t, f, client, url)
		if want := "refused to connect to receiver.test (127.0.0.1): in 127.0.0.0/8 (outbound.deny)"; r.Attempt.Error != want {
			t.Errorf("error %q, want %q", r.Attempt.Error, want)
		}
		if got := l.dialled(); len(got) != 0 {
			t.Errorf("dialled %v", got)
		}
	})
	t.Run("allow wins", func(t *testing.T) {
		f, rc := newFixture(t, nil)
		client, _ := guardedClient(t, netguard.Options{
			Deny:  []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
			Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		})
		r, _ := runOne(t, f, client, strings.Replace(rc.URL(), "127.0.0.1", "receiver.test", 1))
		if r.State != store.EventDelivered {
			t.Errorf("state %s, error %q; want delivered", r.State, r.Attempt.Error)
		}
	})
}

// Before-callbacks go through the same client: refused and not redirected the same way.
func TestGuardCoversBeforeCallbacks(t *testing.T) {
	f, rc := newFixture(t, func(w http.ResponseWriter, r *http.Request) bool {
		http.Redirect(w, r, "http://metadata.test/", http.StatusTemporaryRedirect)
		return false
	})
	client, l := guardedClient(t, netguard.Options{})
	caller := webhook.NewBeforeCaller(client, f.st.Instance(), time.Now)
	d := webhook.Delivery{App: 1, Command: webhook.BeforeSendGift, Body: []byte(`{}`)}
	for url, want := range map[string]string{
		"http://metadata.test/cb": "no valid reply from the App backend: refused to connect to metadata.test (169.254.169.254): cloud metadata address",
		rc.URL():                  "no valid reply from the App backend: HTTP status 307: redirect to http://metadata.test/ not followed",
	} {
		res := caller.Call(context.Background(), &webhook.Config{URL: url, Timeout: 5 * time.Second}, "r1", d)
		if !errors.Is(res.Err, webhook.ErrNoValidReply) || !strings.HasPrefix(res.Attempt.Error, want) ||
			res.Event.State != store.EventDead || res.Event.LastError != res.Attempt.Error {
			t.Errorf("%s: err %v, attempt error %q, state %s; want %q", url, res.Err, res.Attempt.Error, res.Event.State, want)
		}
	}
	for _, a := range l.dialled() {
		if !strings.HasPrefix(a, "127.0.0.1:") {
			t.Errorf("dialled %s", a)
		}
	}
}
