package netguard

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
)

// table is an injected resolver: tests never ask the system's DNS.
func table(m map[string][]string) func(context.Context, string, string) ([]netip.Addr, error) {
	return func(_ context.Context, _, host string) ([]netip.Addr, error) {
		var out []netip.Addr
		for _, s := range m[host] {
			out = append(out, netip.MustParseAddr(s))
		}
		if out == nil {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		return out, nil
	}
}

// localDialer records every address asked for and refuses all of them without touching
// the network: even a broken guard cannot make these tests connect anywhere.
type localDialer struct {
	mu    sync.Mutex
	asked []string
}

var errNotDialled = errors.New("test dialer: not dialled")

func (d *localDialer) dial(_ context.Context, _, addr string) (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.asked = append(d.asked, addr)
	return nil, errNotDialled
}

func TestCheck(t *testing.T) {
	g := New(Options{
		Deny:  []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")},
		Allow: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("169.254.7.0/24")},
	})
	for _, c := range []struct {
		ip, kind string // kind "" means allowed
	}{
		{"169.254.169.254", "metadata"},
		{"169.254.170.2", "metadata"},
		{"100.100.100.200", "metadata"},
		{"fd00:ec2::254", "metadata"}, // also in the fd00::/8 deny rule, which is checked first
		{"169.254.1.1", "link_local"},
		{"fe80::1", "link_local"},
		{"fe80::1%eth0", "link_local"},
		{"::ffff:169.254.169.254", "metadata"}, // IPv4-mapped
		{"64:ff9b::a9fe:a9fe", "metadata"},     // NAT64 of 169.254.169.254
		{"0.0.0.0", "unspecified"},
		{"0.1.2.3", "unspecified"},
		{"::", "unspecified"},
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"ff02::1", "multicast"},
		{"255.255.255.255", "broadcast"},
		{"240.0.0.1", "reserved"},
		{"10.2.3.4", "deny_list"},
		{"fd12::1", "deny_list"},
		// Allowed: loopback and private ranges by default, and what Allow names.
		{"127.0.0.1", ""},
		{"::1", ""},
		{"::ffff:127.0.0.1", ""},
		{"192.168.1.10", ""},
		{"172.16.0.1", ""},
		{"100.64.0.1", ""},
		{"10.1.2.3", ""},      // allow wins over deny
		{"169.254.7.7", ""},   // allow wins over the built-in rules
		{"93.184.216.34", ""}, // a public address
		{"2001:db8::1", ""},
	} {
		err := g.Check(netip.MustParseAddr(c.ip))
		var re *RefusedError
		switch {
		case c.kind == "" && err != nil:
			t.Errorf("Check(%s) = %v, want allowed", c.ip, err)
		case c.kind != "" && !errors.As(err, &re):
			t.Errorf("Check(%s) = %v, want refused (%s)", c.ip, err, c.kind)
		case c.kind != "" && re.Kind != c.kind && !(c.ip == "fd00:ec2::254" && re.Kind == "deny_list"):
			t.Errorf("Check(%s) kind = %s, want %s", c.ip, re.Kind, c.kind)
		}
	}
}

// A host name that resolves to a refused address is refused before anything is dialled,
// with a message naming the host, the address and the reason.
func TestDialRefusesResolvedAddress(t *testing.T) {
	var d localDialer
	var kinds []string
	g := New(Options{
		LookupIP: table(map[string][]string{
			"metadata.test": {"169.254.169.254"},
			"v6meta.test":   {"fd00:ec2::254"},
			"mixed.test":    {"169.254.169.254", "127.0.0.1"},
			"denied.test":   {"10.9.9.9"},
		}),
		Deny:     []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		Dial:     d.dial,
		OnRefuse: func(k string) { kinds = append(kinds, k) },
	})
	ctx := context.Background()
	for _, c := range []struct{ addr, want string }{
		{"metadata.test:80", "refused to connect to metadata.test (169.254.169.254): cloud metadata address (AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle) (built in; outbound.allow overrides)"},
		{"v6meta.test:80", "refused to connect to v6meta.test (fd00:ec2::254): AWS IPv6 instance metadata address"},
		{"169.254.169.254:80", "refused to connect to 169.254.169.254: cloud metadata address"},
		{"[fe80::1]:80", "refused to connect to fe80::1: IPv6 link-local address"},
		{"[::ffff:169.254.169.254]:80", "refused to connect to ::ffff:169.254.169.254 (169.254.169.254): cloud metadata address"},
		{"denied.test:80", "refused to connect to denied.test (10.9.9.9): in 10.0.0.0/8 (outbound.deny)"},
	} {
		_, err := g.DialContext(ctx, "tcp", c.addr)
		var re *RefusedError
		if !errors.As(err, &re) || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("DialContext(%s) = %v, want %q", c.addr, err, c.want)
		}
	}
	if len(d.asked) != 0 {
		t.Fatalf("dialled %v for refused addresses", d.asked)
	}
	if len(kinds) != 6 || kinds[0] != "metadata" || kinds[5] != "deny_list" {
		t.Errorf("OnRefuse kinds = %v", kinds)
	}
	// With one allowed address among refused ones, only the allowed one is dialled, by
	// its IP address (so a second DNS answer cannot change it).
	if _, err := g.DialContext(ctx, "tcp", "mixed.test:8080"); !errors.Is(err, errNotDialled) {
		t.Errorf("DialContext(mixed.test) = %v, want the dialer's error", err)
	}
	if len(d.asked) != 1 || d.asked[0] != "127.0.0.1:8080" {
		t.Errorf("dialled %v, want [127.0.0.1:8080]", d.asked)
	}
}

func TestParsePrefix(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.0/8":      "10.0.0.0/8",
		"10.1.2.3/8":      "10.0.0.0/8",
		"169.254.169.254": "169.254.169.254/32",
		"fd00:ec2::254":   "fd00:ec2::254/128",
		"::ffff:10.0.0.1": "10.0.0.1/32",
		" fe80::/10 ":     "fe80::/10",
	} {
		p, err := ParsePrefix(in)
		if err != nil || p.String() != want {
			t.Errorf("ParsePrefix(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
	for _, in := range []string{"", "example.com", "10.0.0.0/33", "1.2.3"} {
		if _, err := ParsePrefix(in); err == nil {
			t.Errorf("ParsePrefix(%q) succeeded", in)
		}
	}
}
