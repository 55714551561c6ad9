// Package netguard decides which addresses roomd's outbound connections (After- and
// Before-callbacks to App backends) may reach, and enforces it when the connection is
// dialled.
//
// The check runs on the IP address actually dialled, after name resolution: a Guard's
// DialContext resolves the host itself, checks every address, and dials the address it
// checked (an IP literal), so neither a DNS answer that changes between two lookups nor a
// redirect to another host can reach a refused address. (Redirects are not followed at all
// by the dispatcher's client; see dispatcher.NewClient.)
//
// By default the addresses in [Builtin] are refused: link-local and cloud metadata
// endpoints, the unspecified and "this network" addresses, multicast, broadcast and
// reserved ranges. Loopback and private ranges are allowed, so that an App backend on the
// same machine or network works for local development. Options.Deny adds ranges to refuse;
// Options.Allow names ranges that are allowed even when a deny rule (built in or not)
// covers them: allow wins, so that an operator can reach, say, a receiver on a link-local
// address on purpose.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// Rule is one refused range.
type Rule struct {
	Prefix netip.Prefix
	// Kind is a short label for metrics ("metadata", "link_local", "deny_list", …).
	Kind string
	// Reason says in a few words why the range is refused.
	Reason string
}

// Builtin are the ranges refused by default, each with its reason.
var Builtin = []Rule{
	// Cloud instance metadata services hand out credentials to anyone on the instance who
	// asks: the classic target of server-side request forgery.
	{netip.MustParsePrefix("169.254.169.254/32"), "metadata", "cloud metadata address (AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle)"},
	{netip.MustParsePrefix("169.254.170.2/32"), "metadata", "AWS ECS task metadata address"},
	{netip.MustParsePrefix("fd00:ec2::254/128"), "metadata", "AWS IPv6 instance metadata address"},
	{netip.MustParsePrefix("100.100.100.200/32"), "metadata", "Alibaba Cloud metadata address"},
	// Link-local addresses are not routed: no App backend lives there, and metadata and
	// other host services (ECS credentials, DHCP-style agents) do.
	{netip.MustParsePrefix("169.254.0.0/16"), "link_local", "link-local address (where cloud metadata services live)"},
	{netip.MustParsePrefix("fe80::/10"), "link_local", "IPv6 link-local address"},
	// 0.0.0.0/8 and :: reach the local host on Linux: a way around a loopback check.
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified", "\"this network\" address (0.0.0.0/8 reaches the local host)"},
	{netip.MustParsePrefix("::/128"), "unspecified", "unspecified IPv6 address (reaches the local host)"},
	// Multicast and broadcast are not one receiver; a TCP connection to them is an error
	// or a surprise.
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast", "IPv4 multicast address"},
	{netip.MustParsePrefix("ff00::/8"), "multicast", "IPv6 multicast address"},
	{netip.MustParsePrefix("255.255.255.255/32"), "broadcast", "IPv4 broadcast address"},
	// Reserved for future use (class E): nothing legitimate answers there.
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved", "reserved IPv4 address (240.0.0.0/4)"},
}

// nat64 is the well-known NAT64 prefix: an address in it reaches the IPv4 address in its
// last 32 bits, so that address is what gets checked.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// RefusedError is returned by DialContext for an address the rules refuse.
type RefusedError struct {
	// Host is the host name dialled (or the address, when it was an IP literal).
	Host string
	// Addr is the refused address.
	Addr netip.Addr
	// Kind and Reason are the refusing rule's.
	Kind, Reason string
	// Source names the setting the rule comes from: "built in" or "outbound.deny".
	Source string
}

func (e *RefusedError) Error() string {
	target := e.Addr.String()
	if e.Host != "" && e.Host != target {
		target = e.Host + " (" + target + ")"
	}
	hint := "outbound.deny"
	if e.Source != "outbound.deny" {
		hint = "built in; outbound.allow overrides"
	}
	return fmt.Sprintf("refused to connect to %s: %s (%s)", target, e.Reason, hint)
}

// Options configure a Guard. The zero value is the default rules, the system resolver and
// a plain dialer.
type Options struct {
	// Deny adds ranges to refuse, on top of Builtin.
	Deny []netip.Prefix
	// Allow lists ranges allowed even when Deny or Builtin covers them.
	Allow []netip.Prefix
	// LookupIP resolves a host name; net.DefaultResolver.LookupNetIP when nil. Tests inject
	// a fixed table.
	LookupIP func(ctx context.Context, network, host string) ([]netip.Addr, error)
	// Dial dials an address that passed the check (always an IP literal and a port); a
	// net.Dialer with a 5 s connect timeout and 30 s keep-alive when nil. Tests inject a
	// dialer that refuses anything off the machine, so that a broken guard fails the test
	// instead of connecting out.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// OnRefuse, when set, is called with the refusing rule's Kind for every refused
	// address (metrics).
	OnRefuse func(kind string)
}

// Guard checks and dials outbound connections.
type Guard struct {
	rules    []Rule
	allow    []netip.Prefix
	lookup   func(ctx context.Context, network, host string) ([]netip.Addr, error)
	dial     func(ctx context.Context, network, addr string) (net.Conn, error)
	onRefuse func(string)
}

// New returns a Guard.
func New(o Options) *Guard {
	g := &Guard{allow: o.Allow, lookup: o.LookupIP, dial: o.Dial, onRefuse: o.OnRefuse}
	for _, p := range o.Deny {
		g.rules = append(g.rules, Rule{Prefix: p.Masked(), Kind: "deny_list", Reason: "in " + p.Masked().String()})
	}
	g.rules = append(g.rules, Builtin...)
	if g.lookup == nil {
		g.lookup = net.DefaultResolver.LookupNetIP
	}
	if g.dial == nil {
		g.dial = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	return g
}

// Check returns a *RefusedError when the rules refuse ip, nil when they allow it. An
// IPv4-mapped IPv6 address (::ffff:a.b.c.d) and a NAT64 address (64:ff9b::a.b.c.d) are
// checked as the IPv4 address they reach; the zone of a scoped address is ignored.
func (g *Guard) Check(ip netip.Addr) error {
	ip = ip.WithZone("").Unmap()
	if ip.Is6() && nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	for _, p := range g.allow {
		if p.Contains(ip) {
			return nil
		}
	}
	for i, r := range g.rules {
		if r.Prefix.Contains(ip) {
			src := "built in"
			if i < len(g.rules)-len(Builtin) {
				src = "outbound.deny"
			}
			return &RefusedError{Addr: ip, Kind: r.Kind, Reason: r.Reason, Source: src}
		}
	}
	return nil
}

// DialContext resolves addr's host, checks each address, and dials the first allowed one
// that answers, by its IP address. When every address is refused it returns the first
// *RefusedError, and nothing is dialled. It fits http.Transport.DialContext.
func (g *Guard) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		lookupNet := "ip"
		switch network {
		case "tcp4":
			lookupNet = "ip4"
		case "tcp6":
			lookupNet = "ip6"
		}
		ips, err = g.lookup(ctx, lookupNet, strings.TrimSuffix(host, "."))
		if err != nil {
			return nil, err
		}
		if len(ips) == 0 {
			return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
		}
	}
	var refused *RefusedError
	var dialErr error
	for _, ip := range ips {
		if err := g.Check(ip); err != nil {
			re := err.(*RefusedError)
			re.Host = host
			if g.onRefuse != nil {
				g.onRefuse(re.Kind)
			}
			if refused == nil {
				refused = re
			}
			continue
		}
		c, err := g.dial(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
		if err == nil {
			return c, nil
		}
		dialErr = err
		if ctx.Err() != nil {
			break
		}
	}
	if dialErr != nil {
		return nil, dialErr
	}
	return nil, refused
}

// ParsePrefix reads a CIDR range ("10.0.0.0/8", "fd00::/8") or a single address
// ("169.254.169.254", which means /32, or /128 for IPv6).
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, errors.New("not a CIDR range or IP address")
		}
		return p.Masked(), nil
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, errors.New("not a CIDR range or IP address")
	}
	ip = ip.Unmap()
	return netip.PrefixFrom(ip, ip.BitLen()), nil
}
