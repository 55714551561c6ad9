package room

import (
	"context"
	"log/slog"
	"strconv"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

// The Before-callbacks of the domain (Group.CallbackBeforeSendMsg for room messages,
// Live.CallbackBeforeSendGift for gifts) share this one piece of code: whether to ask at
// all (the app switched the command on and has a URL), the checks that refuse an operation
// before the App backend is asked, sending the request (webhook.BeforeCaller: one attempt,
// the app's timeout), reading the reply by the callback's rules, and keeping the attempt in
// the delivery log:
//
//   - a refused operation records the attempt on its own;
//   - an allowed operation records it in the transaction that makes the change (recordIn);
//   - when that transaction fails after the callback went out, finish records it on its own,
//     so no attempt is ever lost.
//
// What a reply means differs by callback and is given by beforeRules.

// verdict is what a Before-callback decided.
type verdict int

const (
	sendIt   verdict = iota // go ahead (also: the command is switched off)
	dropIt                  // say success, do nothing (Group.CallbackBeforeSendMsg's 2)
	refuseIt                // fail with the rules' error
)

// beforeRules say what the replies of one Before-callback mean.
type beforeRules struct {
	cmd webhook.Command
	// passFirst … passLast are the codes that reach the caller as they are, with the reply's
	// ErrorInfo.
	passFirst, passLast int
	// rejected is the error of any other non-zero code; info is the reply's ErrorInfo, or
	// "ErrorCode N" when it has none.
	rejected func(info string) error
	// failOpen reports whether no valid reply lets the operation go under cfg.
	failOpen func(cfg *webhook.Config) bool
	// noReply is the error of no valid reply when failOpen is false; reason wraps
	// webhook.ErrNoValidReply.
	noReply func(cfg *webhook.Config, reason error) error
	// special, when set, reads a valid reply first: ok false leaves it to the general
	// rules (it may have made the reply invalid with BeforeResult.Invalidate).
	special func(res *webhook.BeforeResult) (v verdict, err error, ok bool)
}

// decide reads a Before-callback's result by r: ErrorCode 0 allows, a code in the pass-through
// range refuses with that code and ErrorInfo, any other code refuses with r.rejected, and no
// valid reply allows or refuses as r.failOpen says. Only ErrorCode counts: Tencent states every
// rule in terms of it.
func (r *beforeRules) decide(res *webhook.BeforeResult, cfg *webhook.Config) (verdict, error) {
	if res.Err == nil && r.special != nil {
		if v, err, ok := r.special(res); ok {
			return v, err
		}
	}
	if res.Err == nil {
		code, info := res.Reply.ErrorCode, res.Reply.ErrorInfo
		switch {
		case code == 0:
			return sendIt, nil
		case code >= r.passFirst && code <= r.passLast:
			return refuseIt, errcode.New(code, info)
		default:
			if info == "" {
				info = "ErrorCode " + strconv.Itoa(code)
			}
			return refuseIt, r.rejected(info)
		}
	}
	if r.failOpen(cfg) {
		return sendIt, nil
	}
	return refuseIt, r.noReply(cfg, res.Err)
}

// beforeHook sends the domain's Before-callbacks. MessageService and GiftService each hold
// one.
type beforeHook struct {
	store   store.Store
	configs *webhook.Configs
	caller  *webhook.BeforeCaller
	logger  *slog.Logger
}

// beforeCall is a Before-callback made for one operation; a nil *beforeCall (the command is
// switched off) records nothing.
type beforeCall struct {
	h   *beforeHook
	res *webhook.BeforeResult
}

// beforeAsk is one question to the App backend.
type beforeAsk struct {
	actor  Actor
	roomID string
	rules  *beforeRules
	// check refuses an operation the room would refuse anyway, before the App backend is
	// asked (only when it is asked; the operation checks again in its transaction).
	check func(ctx context.Context) error
	// body builds the request body, only when the callback is sent.
	body func() any
	// skip leaves the App backend out (send_group_msg's ForbidCallbackControl).
	skip bool
}

// ask sends q's Before-callback when q.actor's app switched it on, and decides. A refusal
// (refuseIt) is recorded at once and returned as the error; otherwise the caller records the
// returned call with recordIn in its transaction and calls finish after it.
func (h *beforeHook) ask(ctx context.Context, q beforeAsk) (*beforeCall, verdict, error) {
	cfg := h.configs.Get(q.actor.App)
	if q.skip || !cfg.Enabled(q.rules.cmd) {
		return nil, sendIt, nil
	}
	if q.check != nil {
		if err := q.check(ctx); err != nil {
			return nil, refuseIt, err
		}
	}
	body, err := webhook.Render(q.rules.cmd, q.body())
	if err != nil {
		return nil, refuseIt, err
	}
	res := h.caller.Call(ctx, cfg, q.roomID, webhook.Delivery{
		App: q.actor.App, Command: q.rules.cmd, Body: body, ClientIP: q.actor.ClientIP, Platform: q.actor.Platform,
	})
	c := &beforeCall{h: h, res: res}
	v, refusal := q.rules.decide(res, cfg)
	if v == refuseIt {
		if err := c.recordAlone(ctx); err != nil {
			return nil, refuseIt, err
		}
		return nil, refuseIt, refusal
	}
	return c, v, nil
}

// recordIn stores the attempt in tx, the transaction of the change it allowed.
func (c *beforeCall) recordIn(ctx context.Context, tx store.Tx) error {
	if c == nil {
		return nil
	}
	return c.res.Record(ctx, tx)
}

// recordAlone stores the attempt in a transaction of its own.
func (c *beforeCall) recordAlone(ctx context.Context) error {
	return c.h.store.Tx(ctx, func(tx store.Tx) error { return c.res.Record(ctx, tx) })
}

// finish passes on err, the outcome of the change's transaction. When that failed (the room
// was dissolved meanwhile, say), the attempt, rolled back with it, is stored on its own.
func (c *beforeCall) finish(ctx context.Context, roomID string, err error) error {
	if err == nil || c == nil {
		return err
	}
	if rerr := c.recordAlone(ctx); rerr != nil {
		c.h.logger.Error("record before-callback", "room_id", roomID, "err", rerr)
	}
	return err
}
