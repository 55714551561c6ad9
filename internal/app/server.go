// Package app wires roomd together: configuration to components, and the subcommands
// serve, migrate, usersig, receive and version. It holds no domain logic.
package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomd/roomd/internal/account"
	"github.com/roomd/roomd/internal/api/clientapi"
	"github.com/roomd/roomd/internal/api/clientws"
	"github.com/roomd/roomd/internal/api/rest"
	"github.com/roomd/roomd/internal/auth/usersig"
	"github.com/roomd/roomd/internal/clock"
	"github.com/roomd/roomd/internal/cluster"
	"github.com/roomd/roomd/internal/config"
	"github.com/roomd/roomd/internal/console"
	"github.com/roomd/roomd/internal/metrics"
	"github.com/roomd/roomd/internal/netguard"
	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/store/postgres"
	"github.com/roomd/roomd/internal/store/sqlite"
	"github.com/roomd/roomd/internal/tenant"
	"github.com/roomd/roomd/internal/webclient"
	"github.com/roomd/roomd/internal/webhook"
	"github.com/roomd/roomd/internal/webhook/dispatcher"
	"github.com/roomd/roomd/internal/webhook/retention"
)

// The development app that `roomd serve` runs when no app is configured.
const (
	DevSDKAppID    = 1400000000
	DevAdmin       = "administrator"
	devKeyFileName = "dev-secret-key"
	dbFileName     = "roomd.db"
)

// Server is a running roomd: store, dispatcher and HTTP listener.
type Server struct {
	cfg   *config.Config
	log   *slog.Logger
	now   func() time.Time
	store store.Store
	// db is the store's driver side: its schema version, for Ready.
	db schemaStore
	// latestSchema is the schema version this build's migrations of the driver make.
	latestSchema int
	// closing is set when Close begins: /readyz answers 503 from then on.
	closing atomic.Bool
	Apps    *tenant.Registry
	// Delivery holds the dispatcher of the node's current term of delivery: from Start to
	// Close when the node is alone on its store, while it holds the "delivery" lease when
	// several nodes share it (see cluster_node.go).
	Delivery *dispatcher.Holder
	// Rooms is the room domain, shared by the REST and the client API.
	Rooms   *room.Service
	client  *clientapi.API
	handler http.Handler
	ln      net.Listener
	http    *http.Server
	// DevKey is the development app's secret key when the dev app is running, else "".
	DevKey string
	// Retention prunes finished events from the delivery log (started by Start).
	Retention *retention.Job
	// relay is where this node reads the other nodes' broadcasts (cluster_clients.go).
	relay relayCursor

	// settings is the callback configuration service (reloaded on other nodes' changes).
	settings *webhook.Settings
	// timers runs the room and battle timers while the node holds the "timers" role.
	timers timerWork
	// pruner prunes the broadcasts while the node holds the "retention" role.
	pruner prunerWork
	// node is the node's cluster runtime on a shared store; nil when alone.
	node     *cluster.Node
	stopNode context.CancelFunc

	wg sync.WaitGroup
}

// Options carry what tests and embedders may replace.
type Options struct {
	Logger *slog.Logger
	// Clock is the clock of the domain and the dispatcher, the dispatcher's retry timers
	// included (a clock.Manual makes them wait until the test moves it). When nil, the
	// clock reads Now and its timers wait in real time.
	Clock clock.Clock
	// Now is the time of the domain and the dispatcher when Clock is nil; time.Now when
	// both are nil.
	Now func() time.Time
	// Observer is told about every recorded delivery attempt.
	Observer func(dispatcher.Result)
	// LookupIP and Dial replace the outbound guard's resolver and base dialer (see
	// netguard.Options): tests give a fixed table and a dialer that reaches only this
	// machine. Nil means the system's.
	LookupIP func(ctx context.Context, network, host string) ([]netip.Addr, error)
	Dial     func(ctx context.Context, network, addr string) (net.Conn, error)
}

// schemaStore is what Ready asks a driver's store.
type schemaStore interface {
	SchemaVersion(ctx context.Context) (int, error)
}

// openStore opens the store that cfg.Store selects: SQLite in the data directory (the
// default) or PostgreSQL at cfg.Store.DSN.
func (s *Server) openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	switch cfg.Store.Driver {
	case "", config.DriverSQLite:
		st, err := sqlite.Open(ctx, sqlite.Options{Path: DBPath(cfg.DataDir), Durability: cfg.Store.Durability, Logger: log})
		if err != nil {
			return err
		}
		s.store, s.db, s.latestSchema = st, st, sqlite.LatestSchema()
	case config.DriverPostgres:
		st, err := postgres.Open(ctx, postgres.Options{DSN: cfg.Store.DSN, Logger: log})
		if err != nil {
			return err
		}
		s.store, s.db, s.latestSchema = st, st, postgres.LatestSchema()
	default:
		return fmt.Errorf("unknown store driver %q", cfg.Store.Driver)
	}
	return nil
}

// migrateStore applies the pending migrations of the store cfg.Store selects and returns
// where the database is and the schema version it ends at.
func migrateStore(ctx context.Context, cfg *config.Config) (where string, version int, err error) {
	switch cfg.Store.Driver {
	case "", config.DriverSQLite:
		v, err := sqlite.Migrate(ctx, DBPath(cfg.DataDir))
		return DBPath(cfg.DataDir), v, err
	case config.DriverPostgres:
		v, err := postgres.Migrate(ctx, cfg.Store.DSN)
		return "postgres", v, err
	default:
		return "", 0, fmt.Errorf("unknown store driver %q", cfg.Store.Driver)
	}
}

// DBPath returns the SQLite file of a data directory.
func DBPath(dataDir string) string { return filepath.Join(dataDir, dbFileName) }

// NewServer opens the store and builds every component; nothing listens until Start.
func NewServer(ctx context.Context, cfg *config.Config, o Options) (*Server, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case o.Clock != nil:
		o.Now = o.Clock.Now
	case o.Now != nil:
		o.Clock = clock.Func(o.Now)
	default:
		o.Clock, o.Now = clock.Real{}, time.Now
	}
	s := &Server{cfg: cfg, log: o.Logger, now: o.Now}
	s.timers.s, s.pruner.loop.s = s, s

	apps := cfg.Apps
	if len(apps) == 0 {
		key, err := devSecretKey(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		s.DevKey = key
		dev := config.App{SDKAppID: DevSDKAppID, SecretKey: key, Admins: []string{DevAdmin}}
		dev.ApplyDefaults()
		apps = []config.App{dev}
	}

	if err := s.openStore(ctx, cfg, o.Logger); err != nil {
		return nil, err
	}
	st := s.store

	configs := webhook.NewConfigs()
	var tenants []*tenant.App
	for _, a := range apps {
		t := &tenant.App{ID: a.SDKAppID, SecretKey: a.SecretKey, Admins: a.Admins, RoomQuota: a.RoomQuota,
			RateLimitEnabled: a.RateLimit.IsEnabled(), RateLimits: a.RateLimit.PerAPI}
		tenants = append(tenants, t)
		configs.Update(a.SDKAppID, func(c *webhook.Config) {
			if cb := a.Callback; cb != nil {
				if cb.Timeout > 0 {
					c.Timeout = cb.Timeout
				}
				c.Retry = webhook.RetryPolicy{Enabled: cb.Retry.IsEnabled(), MaxAttempts: cb.Retry.MaxAttempts,
					InitialBackoff: cb.Retry.InitialBackoff, MaxBackoff: cb.Retry.MaxBackoff}
				c.SigningSecret = cb.SigningSecret
				c.PreviousSigningSecret, c.PreviousSigningUntil = cb.PreviousSigningSecret, cb.PreviousSigningSecretUntil
				c.MaxRoomHold = cb.MaxRoomHold
				c.Breaker = webhook.BreakerPolicy{Failures: cb.Breaker.Failures, ProbeInterval: cb.Breaker.ProbeInterval}
				c.MaxPerSecond = cb.MaxPerSecond
				if cb.BeforeSendMsgOnFailure != "" {
					c.BeforeSendMsgOnFailure = cb.BeforeSendMsgOnFailure
				}
			}
		})
	}
	s.Apps = tenant.NewRegistry(tenants...)

	settings := webhook.NewSettings(st, configs, o.Now)
	s.settings = settings
	if err := settings.Load(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("load callback configuration: %w", err)
	}
	for _, a := range apps {
		if cb := a.Callback; cb != nil && cb.URL != "" {
			if err := settings.Apply(ctx, a.SDKAppID, cb.URL, cb.Commands, cb.Token, cb.TokenEnabled); err != nil {
				st.Close()
				return nil, fmt.Errorf("apply callback configuration of app %d: %w", a.SDKAppID, err)
			}
		}
	}
	// App admins are accounts of their app: importing them lets a room default to its
	// creating admin as owner.
	if err := st.Tx(ctx, func(tx store.Tx) error {
		for _, a := range apps {
			for _, admin := range a.Admins {
				if _, err := tx.AccountGet(ctx, a.SDKAppID, admin); err == nil {
					continue
				}
				if _, err := tx.AccountUpsert(ctx, store.Account{App: a.SDKAppID, UserID: admin, CreatedAt: o.Now()}); err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		st.Close()
		return nil, fmt.Errorf("import App admins: %w", err)
	}

	var met *metrics.Metrics
	observe := func(r dispatcher.Result) {
		met.ObserveAttempt(r)
		if o.Observer != nil {
			o.Observer(r)
		}
	}
	// One keep-alive client for After- and Before-callbacks alike.
	workers := cfg.Delivery.Workers
	if workers <= 0 {
		workers = webhook.DefaultWorkers
	}
	// Every outbound connection goes through the guard (see package netguard): refused
	// addresses are refused when dialled, whatever the URL's name resolves to.
	deny, allow := cfg.Outbound.Prefixes()
	var countRefusal func(string)
	guard := netguard.New(netguard.Options{Deny: deny, Allow: allow, LookupIP: o.LookupIP, Dial: o.Dial,
		OnRefuse: func(kind string) {
			if countRefusal != nil {
				countRefusal(kind)
			}
		}})
	client := dispatcher.NewGuardedClient(workers, guard)
	// On a store several nodes share, one node at a time delivers (the "delivery" role).
	_, shared := st.(store.Cluster)
	s.Delivery = dispatcher.NewHolder(dispatcher.Options{
		Store: st, Configs: configs, Logger: o.Logger, Clock: o.Clock, Client: client,
		Workers: cfg.Delivery.Workers, MaxInFlightPerApp: cfg.Delivery.MaxInFlightPerApp, Observer: observe,
	}, dispatcher.HolderOptions{Shared: shared})
	var lease retention.Lease = retention.SingleNode{}
	if shared {
		lease = roleLease{s}
	}
	s.Retention = retention.New(retention.Options{Store: st, Clock: o.Clock, Logger: o.Logger, Policies: retentionPolicies(apps), Lease: lease,
		// Passes begin after Start, when met is set.
		OnPass: func(p retention.Pass) {
			met.ObservePruned(store.EventDelivered, p.PrunedDelivered)
			met.ObservePruned(store.EventDead, p.PrunedDead)
		}})
	met = metrics.New(s.Delivery.Stats, st.EventStats, o.Now)
	met.RegisterAppStates(s.Delivery.AppStates)
	if gs, ok := st.(interface{ GroupStats() (uint64, uint64) }); ok {
		met.StoreGroups(gs.GroupStats)
	}
	countRefusal = met.OutboundRefusals()
	met.Readiness(func() bool { return s.Ready(context.Background()) == nil }, s.closing.Load)
	outbox := webhook.NewOutbox(configs, o.Now, s.Delivery.Notify)
	rooms := room.NewService(st, outbox, o.Now)
	s.Rooms = rooms
	dissolve := make(map[uint64]room.Lifetimes, len(apps))
	for _, a := range apps {
		dissolve[a.SDKAppID] = room.Lifetimes{NoUsers: a.AutoDissolve.NoUsers, OwnerLeave: a.AutoDissolve.OwnerLeave,
			OwnerOffline: a.AutoDissolve.OwnerOffline}
	}
	rooms.SetLiveOptions(room.LiveOptions{Grace: cfg.Client.ReconnectGrace, Lifetimes: func(app uint64) room.Lifetimes { return dissolve[app] }})
	messages := room.NewMessageService(room.MessageOptions{
		Store: st, Rooms: rooms, Configs: configs, Now: o.Now, Logger: o.Logger,
		Before: webhook.NewBeforeCaller(client, st.Instance(), o.Now),
		IsAppAdmin: func(app uint64, user string) bool {
			a, ok := s.Apps.Get(app)
			return ok && a.IsAdmin(user)
		},
	})
	gifts := room.NewGiftService(room.GiftOptions{Store: st, Rooms: rooms, Configs: configs, Now: o.Now, Logger: o.Logger,
		Before: webhook.NewBeforeCaller(client, st.Instance(), o.Now)})
	accounts := account.NewService(st, o.Now)
	verifier := usersig.NewVerifier(4096)
	s.client = clientapi.New(clientapi.Options{
		Apps: s.Apps, Rooms: rooms, Messages: messages, Gifts: gifts, Accounts: accounts, Verifier: verifier, Now: o.Now, Logger: o.Logger,
		PresencePushLimit: cfg.Client.PresencePushLimit,
		Transport: clientws.Config{SendQueue: cfg.Client.SendQueue, MaxFrameBytes: cfg.Client.MaxFrameBytes,
			PingInterval: cfg.Client.HeartbeatInterval, PingTimeout: cfg.Client.HeartbeatTimeout},
	})
	rooms.SetObserver(s.client.Observe)
	api := rest.New(rest.Options{
		Apps:      s.Apps,
		Rooms:     rooms,
		Messages:  messages,
		Gifts:     gifts,
		Accounts:  accounts,
		Callbacks: settings,
		Verifier:  verifier,
		Delivery:  s.Delivery,
		Observe:   met.ObserveREST,
		Logger:    o.Logger,
		Now:       o.Now,
	})
	// roomd's own endpoints; every other path is the REST API's (rest.Root).
	own := http.NewServeMux()
	own.Handle("GET /metrics", met.Handler())
	own.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("ok\n"))
	})
	own.HandleFunc("GET /readyz", s.serveReady)
	own.Handle("GET "+clientws.Path, s.client.Handler())
	var dev *webclient.DevApp
	if s.DevKey != "" {
		dev = &webclient.DevApp{SDKAppID: DevSDKAppID, SecretKey: s.DevKey, Admins: []string{DevAdmin}}
	}
	webPaths := webclient.Register(own, webclient.Options{Dev: dev, Now: o.Now})
	root := rest.Root(api, own, append([]string{"/metrics", "/healthz", "/readyz", clientws.Path}, webPaths...)...)
	pages := console.Handler()
	s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if console.Handles(r.URL.Path) {
			pages.ServeHTTP(w, r)
			return
		}
		root.ServeHTTP(w, r)
	})
	return s, nil
}

// Handler returns the HTTP handler of all roomd endpoints.
func (s *Server) Handler() http.Handler { return s.handler }

// Store returns the server's store (for inspection in tests and tools).
func (s *Server) Store() store.Store { return s.store }

// Start listens on the configured address and starts the dispatcher.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Listen, err)
	}
	s.ln = ln
	s.http = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	// Delivery, the timers and retention: this node's alone on its store; on a shared
	// store, those whose leases it holds (cluster_node.go).
	start := s.startAlone
	if cl, ok := s.store.(store.Cluster); ok {
		start = func() error { return s.startNode(cl) }
	}
	if err := start(); err != nil {
		ln.Close()
		return err
	}
	// The other nodes' events are read from the last one committed before this node serves.
	if err := s.initBroadcastRelay(context.Background()); err != nil {
		ln.Close()
		return fmt.Errorf("read broadcasts: %w", err)
	}
	// Pruning runs off the request path, on its own timer (and, in a cluster, only on the
	// node holding the "retention" lease).
	s.Retention.Start()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		var err error
		if s.cfg.TLSCert != "" {
			err = s.http.ServeTLS(ln, s.cfg.TLSCert, s.cfg.TLSKey)
		} else {
			err = s.http.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server stopped", "err", err)
		}
	}()
	return nil
}

// Addr is the address the server listens on (useful with port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the base URL of the server.
func (s *Server) URL() string {
	scheme := "http"
	if s.cfg.TLSCert != "" {
		scheme = "https"
	}
	return scheme + "://" + s.Addr()
}

// Close stops the server gracefully, within ctx: /readyz turns 503; the HTTP server stops
// accepting and lets the requests in flight finish (Before-callbacks included); client
// connections are closed (their users count as having lost their heartbeat, so they may
// come back to the next process within the reconnect grace); the dispatcher starts no
// other attempt and lets those in flight finish and be recorded. When ctx ends first,
// what is still in flight is cut short and left pending: it is sent again, with the same
// webhook-id, after the next start. Then the store is closed.
func (s *Server) Close(ctx context.Context) error {
	s.closing.Store(true)
	start := time.Now()
	var errs []error
	// A node of a cluster takes no new role from now on; it keeps renewing those it holds
	// while it drains.
	if s.node != nil {
		s.node.Freeze()
	}
	// The dispatcher drains while the doors close: no new attempt starts from now on.
	drained := make(chan error, 1)
	go func() { drained <- s.Delivery.Drain(ctx) }()
	// A deadline that passes is not a failure of the stop: what it cuts short is left
	// pending (callbacks) or was never acknowledged (requests). It is logged below.
	late := func(err error) error {
		if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			s.log.Warn("shutdown_cut_short", "err", err)
			return nil
		}
		return err
	}
	if s.http != nil {
		if err := s.http.Shutdown(ctx); err != nil {
			s.http.Close() // cut the requests still running
			if err = late(err); err != nil {
				errs = append(errs, fmt.Errorf("stop HTTP server: %w", err))
			}
		}
	}
	// Client connections were hijacked from the HTTP server: close them here, while the
	// store still takes their members' presence changes.
	errs = append(errs, late(s.client.Shutdown(ctx)))
	s.Retention.Stop()
	drainErr := <-drained
	// Stop cuts short what the drain left in flight (at once: the attempts are cancelled)
	// and waits for the recorder, so that the store is closed after the last record. It
	// gets a second of its own, since ctx may be over by now.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	errs = append(errs, s.Delivery.Stop(sctx))
	// The timers stop; a node of a cluster gives its leases back and leaves, so that the
	// others take its roles over at their next beat.
	errs = append(errs, s.stopRoles(sctx))
	s.wg.Wait()
	errs = append(errs, s.store.Close())
	if drainErr != nil {
		s.log.Warn("shutdown_deadline_passed", "err", drainErr, "duration", time.Since(start).Round(time.Millisecond))
	} else {
		s.log.Info("shutdown_complete", "duration", time.Since(start).Round(time.Millisecond))
	}
	return errors.Join(errs...)
}

// Ready reports whether the server can serve: it is not stopping, its store answers a
// trivial read, and the database's schema is the one this build's migrations make.
func (s *Server) Ready(ctx context.Context) error {
	if s.closing.Load() {
		return errors.New("shutting down")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	have, err := s.db.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("store unreachable: %w", err)
	}
	switch want := s.latestSchema; {
	case have < want:
		return fmt.Errorf("migrations not applied: schema version %d, this build needs %d (run roomd migrate)", have, want)
	case have > want:
		return fmt.Errorf("schema version %d is newer than this build's %d", have, want)
	}
	return nil
}

// serveReady is GET /readyz: 200 "ready", or 503 with the reason, as plain text.
func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.Ready(r.Context()); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready: %s\n", err)
		return
	}
	w.Write([]byte("ready\n"))
}

// runTimers does the room work whose time has come (the end of reconnect grace periods,
// automatic dissolution, battles' answers and ends) every second until ctx ends.
func (s *Server) runTimers(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.Rooms.RunDue(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("room_timers_failed", "err", err)
			}
			if _, err := s.Rooms.RunDueBattles(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("battle_timers_failed", "err", err)
			}
		}
	}
}

// retentionPolicies returns each app's retention; an app without a callback block gets the
// defaults. On one node the job runs with retention.SingleNode; a multi-node store
// driver must give it a Lease of its own (see package retention).
func retentionPolicies(apps []config.App) []retention.Policy {
	ps := make([]retention.Policy, 0, len(apps))
	for _, a := range apps {
		p := retention.Policy{App: a.SDKAppID, Delivered: retention.DefaultDelivered, Dead: retention.DefaultDead}
		if cb := a.Callback; cb != nil {
			if cb.Retention.Delivered > 0 {
				p.Delivered = cb.Retention.Delivered
			}
			if cb.Retention.Dead > 0 {
				p.Dead = cb.Retention.Dead
			}
		}
		ps = append(ps, p)
	}
	return ps
}

// devSecretKey returns the development app's secret key, creating it on first start.
func devSecretKey(dataDir string) (string, error) {
	path := filepath.Join(dataDir, devKeyFileName)
	b, err := os.ReadFile(path)
	if err == nil {
		if k := strings.TrimSpace(string(b)); k != "" {
			return k, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read development key: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", fmt.Errorf("create data directory: %w", err)
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	key := hex.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write development key: %w", err)
	}
	return key, nil
}
