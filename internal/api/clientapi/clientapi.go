// Package clientapi is the client API of roomd: the methods a connected App user calls and
// the events it is pushed, named after Tencent's TUIRoomEngine client API so a TUILiveKit
// developer recognises every name, carried as JSON-RPC 2.0 over the WebSocket transport of
// package clientws (docs/client-protocol.md).
//
// It holds no rule of its own. Each method decodes its camelCase params, calls the room
// domain as the connected user (Actor with the user, its declared platform and address),
// and returns the result; every error goes through errcode, the one Tencent-code layer the
// REST API uses too. Pushes are made from the domain's room events (room.Event), which the
// domain publishes after each commit in commit order, whichever door caused the change.
package clientapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomd/roomd/internal/account"
	"github.com/roomd/roomd/internal/api/clientws"
	"github.com/roomd/roomd/internal/auth/usersig"
	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/tenant"
)

// Options are what the client API is built from.
type Options struct {
	Apps     *tenant.Registry
	Rooms    *room.Service
	Messages *room.MessageService
	Gifts    *room.GiftService
	Accounts *account.Service
	Verifier *usersig.Verifier
	Now      func() time.Time
	Logger   *slog.Logger
	// Transport tunes the WebSocket transport (limits, heartbeats); its Authenticate,
	// Methods, OnOpen and OnClose are set by New.
	Transport clientws.Config
	// CallTimeout bounds the clean-up of a closed connection (leaving its rooms); default
	// 10 s. A method call is not bounded by it: it runs to its end, as a REST call does
	// (methods.go).
	CallTimeout time.Duration
	// PresencePushLimit is the largest room in which every member is told of each entry and
	// departure; in larger rooms only the owner and admins are. Default 100.
	PresencePushLimit int
}

// DefaultPresencePushLimit is Options.PresencePushLimit's default.
const DefaultPresencePushLimit = 100

// API serves the client API. Mount Handler at clientws.Path and register Observe as the
// room service's observer.
type API struct {
	o   Options
	srv *clientws.Server
	log *slog.Logger

	mu       sync.Mutex
	sessions map[room.ConnID]*clientws.Session

	pub publisher // turns room events into pushes, in commit order (fanout.go)

	// stopping is set by Shutdown: connections that end from then on leave their rooms in
	// one batch (see Shutdown), and stopCtx, cancelled at the same time, cuts short the
	// departures in flight (closed); those are counted instead of logged one by one.
	stopping     atomic.Bool
	stopCtx      context.Context
	stop         context.CancelFunc
	stopFailures atomic.Int64
	stopDeferred atomic.Int64 // connections whose members Shutdown handles in its batch
}

// New returns the client API.
func New(o Options) *API {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = 10 * time.Second
	}
	if o.PresencePushLimit <= 0 {
		o.PresencePushLimit = DefaultPresencePushLimit
	}
	api := &API{o: o, log: o.Logger, sessions: map[room.ConnID]*clientws.Session{}}
	api.stopCtx, api.stop = context.WithCancel(context.Background())
	cfg := o.Transport
	cfg.Authenticate = api.authenticate
	cfg.Methods = api.methods()
	cfg.OnOpen = api.opened
	cfg.OnClose = api.closed
	cfg.Logger = o.Logger
	api.srv = clientws.New(cfg)
	return api
}

// Handler returns the HTTP handler of GET /v1/client.
func (api *API) Handler() http.Handler { return api.srv }

// Shutdown closes every connection (their users are treated as having lost their heartbeat,
// so they may reconnect to the next process) and waits for their clean-up, up to ctx.
//
// The members those connections held are not taken out one connection at a time (one
// transaction, one callback and one push per connection: 10,000 connections took longer
// than the shutdown timeout) but all at once afterwards, room by room, by the room
// service's RecoverPresence — what the next start would do after a crash: one transaction
// and one Offline/HeartbeatInterrupt callback per room and 500 members. What ctx cuts short
// is left to the next start's RecoverPresence. Departures in flight when the stop begins
// (connections that ended just before: their clients went away together) are cut short and
// join the batch, and so does a client that closes cleanly during the stop: it is reported
// Offline/HeartbeatInterrupt, not Offline/Leave. Shutdown logs one line.
func (api *API) Shutdown(ctx context.Context) error {
	start := time.Now()
	api.stopping.Store(true)
	api.stop()
	err := api.srv.Shutdown(ctx)
	closed := time.Since(start)
	moved, rerr := 0, error(nil)
	if api.stopDeferred.Load()+api.stopFailures.Load() > 0 {
		moved, rerr = api.o.Rooms.RecoverPresence(ctx)
	}
	attrs := []any{"connections", api.stopDeferred.Load(), "members_offline", moved,
		"closed_in", closed.Round(time.Millisecond), "duration", time.Since(start).Round(time.Millisecond)}
	if n := api.stopFailures.Load(); n > 0 {
		attrs = append(attrs, "departures_cut_short", n)
	}
	if err != nil || rerr != nil {
		api.log.Warn("client_api_stopped", append(attrs, "err", errors.Join(err, rerr))...)
	} else {
		api.log.Info("client_api_stopped", attrs...)
	}
	return errors.Join(err, rerr)
}

// authenticate checks a connecting user's UserSig with the same rules and codes as the REST
// API, and imports the user as an account on its first login, as Tencent's SDK login does.
func (api *API) authenticate(ctx context.Context, sdkAppID, userID, userSig string) (clientws.Identity, error) {
	appID, err := strconv.ParseUint(sdkAppID, 10, 64)
	if err != nil || appID == 0 {
		return clientws.Identity{}, errcode.New(errcode.BadSDKAppID, "sdkappid "+strconv.Quote(sdkAppID)+" is not a valid SDKAppID")
	}
	app, ok := api.o.Apps.Get(appID)
	if !ok {
		return clientws.Identity{}, errcode.New(errcode.SDKAppIDNotFound, "SDKAppID "+sdkAppID+" is not served here")
	}
	if userID == "" {
		return clientws.Identity{}, errcode.New(errcode.BadAccount, "userid is missing from the URL")
	}
	if err := account.ValidateUserID(userID); err != nil {
		return clientws.Identity{}, err
	}
	if _, err := api.o.Verifier.Verify(userSig, app.ID, app.SecretKey, userID, api.o.Now()); err != nil {
		return clientws.Identity{}, err
	}
	if err := api.o.Accounts.Ensure(ctx, app.ID, userID); err != nil {
		return clientws.Identity{}, err
	}
	return clientws.Identity{App: app.ID, UserID: userID}, nil
}

func (api *API) opened(s *clientws.Session) {
	api.mu.Lock()
	api.sessions[room.ConnID(s.ID())] = s
	api.mu.Unlock()
}

// closed takes a connection out of its rooms: a client that closed cleanly leaves them
// (Offline/Leave), any other end is a lost heartbeat (Offline/HeartbeatInterrupt) from
// which the user may recover by entering again within the grace period.
//
// While the API shuts down, a connection leaves its members to Shutdown's batch.
func (api *API) closed(s *clientws.Session, reason clientws.CloseReason) {
	if api.stopping.Load() {
		api.stopDeferred.Add(1)
	} else {
		ctx, cancel := context.WithTimeout(api.stopCtx, api.o.CallTimeout)
		err := api.o.Rooms.Disconnect(ctx, api.actor(s), room.ConnID(s.ID()), reason == clientws.CloseClient)
		cancel()
		switch {
		case err != nil && api.stopping.Load():
			api.stopFailures.Add(1) // cut short by Shutdown, whose batch takes it over
		case err != nil:
			api.log.Error("client_disconnect_failed", "conn", s.ID(), "user", s.UserID(), "err", err)
		}
	}
	api.mu.Lock()
	delete(api.sessions, room.ConnID(s.ID()))
	api.mu.Unlock()
}

func (api *API) session(c room.ConnID) *clientws.Session {
	api.mu.Lock()
	defer api.mu.Unlock()
	return api.sessions[c]
}

// actor is who a session acts as: its user, an App admin when the app lists it as one.
func (api *API) actor(s *clientws.Session) room.Actor {
	a := room.Actor{App: s.App(), Operator: s.UserID(), ClientIP: s.ClientIP(), Platform: s.Platform()}
	if app, ok := api.o.Apps.Get(s.App()); ok && app.IsAdmin(s.UserID()) {
		a.AppAdmin = true
	}
	return a
}

// requireEntered answers ErrNotMember (100005) for an operation on a room that the
// connection has not entered: a client acts in a room it is in, as TUIRoomEngine does.
func (api *API) requireEntered(s *clientws.Session, roomID string) error {
	if api.srv.Hub().InRoom(s, roomID) {
		return nil
	}
	return fmt.Errorf("%w: enter room %q on this connection first", room.ErrNotMember, roomID)
}
