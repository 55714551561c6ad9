package testkit

import (
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Proxy is a TCP proxy on 127.0.0.1 in the test process, in front of one upstream address
// (a database server, say), that a test can cut to partition whoever connects through it
// from the upstream, and restore. It forwards bytes as they come and knows nothing of the
// protocol.
//
// Cut has two flavours. CutReset closes every proxied connection and refuses new ones: the
// client sees its connections reset and its reconnects fail at once, as when the server
// restarts or a firewall rejects. CutBlackhole keeps every connection open but stops
// forwarding in both directions, and accepts new connections only to forward nothing on
// them: the client's queries hang until its own timeouts fire, as in a network partition
// that drops packets. Restore ends the cut: blackholed connections are closed (what a
// real partition's dropped packets usually lead to, once TCP gives up) and new connections
// are forwarded again.
type Proxy struct {
	t        testing.TB
	upstream string
	ln       net.Listener

	mu     sync.Mutex
	state  proxyState
	conns  map[*proxyConn]struct{}
	closed bool
	total  int
}

type proxyState int

const (
	proxyUp proxyState = iota
	proxyReset
	proxyBlackhole
)

// proxyConn is one proxied connection: the client's side and the upstream's.
type proxyConn struct {
	client, server net.Conn
}

func (c *proxyConn) close() {
	c.client.Close()
	if c.server != nil {
		c.server.Close()
	}
}

// NewProxy starts a proxy on a free loopback port that forwards to upstream (host:port);
// it is closed, with every connection, when t ends.
func NewProxy(t testing.TB, upstream string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{t: t, upstream: upstream, ln: ln, conns: map[*proxyConn]struct{}{}}
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// Addr returns the proxy's address, 127.0.0.1:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Port returns the proxy's port.
func (p *Proxy) Port() uint16 { return uint16(p.ln.Addr().(*net.TCPAddr).Port) }

// Connections returns how many connections the proxy accepted so far.
func (p *Proxy) Connections() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total
}

// CutReset closes every connection through the proxy and resets new ones until Restore.
func (p *Proxy) CutReset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state = proxyReset
	for c := range p.conns {
		c.close()
		delete(p.conns, c)
	}
}

// CutBlackhole stops forwarding on every connection, open or new, until Restore; nothing is
// closed, so the client waits.
func (p *Proxy) CutBlackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state = proxyBlackhole
}

// Restore ends a cut: the connections held during a blackhole are closed, and new
// connections are forwarded again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == proxyBlackhole {
		for c := range p.conns {
			c.close()
			delete(p.conns, c)
		}
	}
	p.state = proxyUp
}

// Close stops the proxy and closes every connection.
func (p *Proxy) Close() {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.close()
		delete(p.conns, c)
	}
	p.mu.Unlock()
	p.ln.Close()
}

func (p *Proxy) accept() {
	for {
		conn, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.serve(conn)
	}
}

func (p *Proxy) serve(client net.Conn) {
	pc := &proxyConn{client: client}
	p.mu.Lock()
	p.total++
	state, closed := p.state, p.closed
	if closed || state == proxyReset {
		p.mu.Unlock()
		if tc, ok := client.(*net.TCPConn); ok {
			tc.SetLinger(0) // a reset, not an orderly close
		}
		client.Close()
		return
	}
	p.conns[pc] = struct{}{}
	p.mu.Unlock()
	if state == proxyBlackhole {
		// Held open, forwarding nothing; Restore or Close closes it.
		return
	}
	server, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
	p.mu.Lock()
	if _, live := p.conns[pc]; !live || err != nil {
		p.mu.Unlock()
		client.Close()
		if server != nil {
			server.Close()
		}
		return
	}
	pc.server = server
	p.mu.Unlock()
	go p.pipe(pc, server, client)
	p.pipe(pc, client, server)
}

// pipe copies from src to dst until either side fails, holding the bytes it read while the
// proxy blackholes; it then closes the connection.
func (p *Proxy) pipe(pc *proxyConn, src, dst net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			for {
				p.mu.Lock()
				state := p.state
				_, live := p.conns[pc]
				p.mu.Unlock()
				if !live {
					return
				}
				if state != proxyBlackhole {
					break
				}
				time.Sleep(10 * time.Millisecond) // dropped on the floor until Restore closes pc
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				err = werr
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				src.Close()
			}
			p.mu.Lock()
			if _, live := p.conns[pc]; live {
				pc.close()
				delete(p.conns, pc)
			}
			p.mu.Unlock()
			return
		}
	}
}

// ProxyPostgres starts a Proxy in front of the PostgreSQL server of dsn (a URL-form DSN with
// a host, as PostgresDatabase returns) and returns it with the same DSN pointed through it:
// what a test needs to cut one node off from the database.
func ProxyPostgres(t testing.TB, dsn string) (*Proxy, string) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		t.Fatalf("a proxied PostgreSQL needs a URL DSN with a host, got %q", dsn)
	}
	p := NewProxy(t, u.Host)
	u.Host = p.Addr()
	return p, u.String()
}
