package room

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

// Follows, which Live shares with Chat: follow_add, follow_delete, follow_check and
// follow_get (https://www.tencentcloud.com/document/product/1047/70345 and the pages after
// it). A user follows another one way; two users who follow each other are mutual
// followers. Following and unfollowing fire Follow.CallbackAfterFollowAdd and
// Follow.CallbackAfterFollowDelete (followcallbacks.go). Follows are not room events: their
// callbacks are ordered per follower (FollowOrderingKey).

// Limits of the follow APIs: at most MaxFollowBatch accounts per follow_add and
// follow_delete, MaxFollowCheck per follow_check, a follow_get page of DefaultFollowPage
// (WantNum 0) up to MaxFollowPage entries, and at most MaxFollowing users followed by one
// user.
const (
	MaxFollowBatch    = 20
	MaxFollowCheck    = 100
	DefaultFollowPage = 100
	MaxFollowPage     = 1000
	MaxFollowing      = 5000
)

// ErrFollowerNotFound: the From_Account of a follow API is not an imported account (30003).
var ErrFollowerNotFound = errcode.New(errcode.RelationAccountNotFound, "From_Account is not imported")

// The FollowType values of follow_check: how From_Account and To_Account relate.
const (
	FollowTypeNone      = 0 // neither follows the other
	FollowTypeFollowing = 1 // From_Account follows To_Account
	FollowTypeFollower  = 2 // To_Account follows From_Account
	FollowTypeMutual    = 3 // both
)

// FollowsChanged: From followed (Added) or stopped following Users. It is not a room
// event: RoomID is empty.
type FollowsChanged struct {
	EventHead
	From  string
	Users []string
	Added bool
}

// FollowOrderingKey is the outbox ordering key of the follow callbacks of user: the
// callbacks of one follower reach the App backend in commit order, and followers never
// wait for each other. The "follow:" prefix keeps the key apart from the room ids that
// order every other callback; a room really named "follow:<user>" would share its queue,
// which can delay callbacks but never reorders or loses one.
func FollowOrderingKey(user string) string { return "follow:" + user }

// FollowResult is the answer of one To_Account of follow_add, follow_delete or
// follow_check: ResultCode and ResultInfo, and for follow_check its FollowType.
type FollowResult struct {
	UserID     string
	Code       int
	Info       string
	FollowType int
}

// followFrom checks From_Account and the actor: an App user follows as itself only.
func followFrom(ctx context.Context, r store.Reader, a Actor, from string) error {
	if from == "" {
		return errcode.Invalid("From_Account", "is required")
	}
	if !a.AppAdmin && from != a.Operator {
		return fmt.Errorf("%w: %s cannot act as %s", ErrNoPermission, a.Operator, from)
	}
	if _, err := r.AccountGet(ctx, a.App, from); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %s", ErrFollowerNotFound, from)
	} else if err != nil {
		return err
	}
	return nil
}

func batch(field string, n, most int) error {
	if n == 0 {
		return errcode.Invalid(field, "is empty")
	}
	if n > most {
		return errcode.Invalid(field, "has %d accounts, at most %d per call", n, most)
	}
	return nil
}

// notImported is the result of a To_Account that is not an account.
func notImported(u string) FollowResult {
	return FollowResult{UserID: u, Code: errcode.RelationAccountNotFound, Info: "account " + strconv.Quote(u) + " is not imported"}
}

// FollowAdd makes from follow each of to (1 to MaxFollowBatch accounts) and answers each:
// 0 when from follows it now (also when it did already), 30003 for an account that is not
// imported, 30001 for from itself, 30010 past MaxFollowing. Follow.CallbackAfterFollowAdd
// lists the accounts newly followed, and is not sent when there are none.
func (s *Service) FollowAdd(ctx context.Context, a Actor, from string, to []string) ([]FollowResult, error) {
	if err := batch("FollowItem", len(to), MaxFollowBatch); err != nil {
		return nil, err
	}
	var out []FollowResult
	err := s.store.Tx(ctx, func(tx store.Tx) error {
		out = make([]FollowResult, len(to))
		if err := followFrom(ctx, tx, a, from); err != nil {
			return err
		}
		count, err := tx.FollowCount(ctx, a.App, from, store.FollowKindFollowing)
		if err != nil {
			return err
		}
		now := s.now()
		var added []string
		for i, u := range to {
			out[i] = FollowResult{UserID: u}
			switch _, err := tx.AccountGet(ctx, a.App, u); {
			case errors.Is(err, store.ErrNotFound):
				out[i] = notImported(u)
				continue
			case err != nil:
				return err
			}
			if u == from {
				out[i].Code, out[i].Info = errcode.RelationInvalid, "an account cannot follow itself"
				continue
			}
			if ok, err := tx.FollowIs(ctx, a.App, from, u); err != nil {
				return err
			} else if ok {
				continue
			}
			if count >= MaxFollowing {
				out[i].Code, out[i].Info = errcode.FollowLimit, fmt.Sprintf("%s already follows %d accounts, the most allowed", from, MaxFollowing)
				continue
			}
			if err := tx.FollowInsert(ctx, store.Follow{App: a.App, From: from, To: u, CreatedAt: now}); err != nil {
				return err
			}
			count++
			added = append(added, u)
		}
		if len(added) == 0 {
			return nil
		}
		return s.publishFollow(ctx, tx, a, FollowsChanged{EventHead: newHead(a, "", now), From: from, Users: added, Added: true})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// FollowDelete makes from stop following each of to (1 to MaxFollowBatch accounts) and
// answers each: 0 when from does not follow it now (also when it did not before), 30003 for
// an account that is not imported. Follow.CallbackAfterFollowDelete lists the accounts
// actually unfollowed, and is not sent when there are none.
func (s *Service) FollowDelete(ctx context.Context, a Actor, from string, to []string) ([]FollowResult, error) {
	if err := batch("To_Account", len(to), MaxFollowBatch); err != nil {
		return nil, err
	}
	var out []FollowResult
	err := s.store.Tx(ctx, func(tx store.Tx) error {
		out = make([]FollowResult, len(to))
		if err := followFrom(ctx, tx, a, from); err != nil {
			return err
		}
		var removed []string
		for i, u := range to {
			out[i] = FollowResult{UserID: u}
			switch _, err := tx.AccountGet(ctx, a.App, u); {
			case errors.Is(err, store.ErrNotFound):
				out[i] = notImported(u)
				continue
			case err != nil:
				return err
			}
			switch err := tx.FollowDelete(ctx, a.App, from, u); {
			case err == nil:
				removed = append(removed, u)
			case !errors.Is(err, store.ErrNotFound):
				return err
			}
		}
		if len(removed) == 0 {
			return nil
		}
		return s.publishFollow(ctx, tx, a, FollowsChanged{EventHead: newHead(a, "", s.now()), From: from, Users: removed})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// FollowCheck answers, for each of to (1 to MaxFollowCheck accounts), how from and it
// relate (FollowType); an account that is not imported gets 30003 and FollowTypeNone.
func (s *Service) FollowCheck(ctx context.Context, a Actor, from string, to []string) ([]FollowResult, error) {
	if err := batch("To_Account", len(to), MaxFollowCheck); err != nil {
		return nil, err
	}
	if err := followFrom(ctx, s.store, a, from); err != nil {
		return nil, err
	}
	out := make([]FollowResult, len(to))
	for i, u := range to {
		out[i] = FollowResult{UserID: u}
		switch _, err := s.store.AccountGet(ctx, a.App, u); {
		case errors.Is(err, store.ErrNotFound):
			out[i] = notImported(u)
			continue
		case err != nil:
			return nil, err
		}
		following, err := s.store.FollowIs(ctx, a.App, from, u)
		if err != nil {
			return nil, err
		}
		follower, err := s.store.FollowIs(ctx, a.App, u, from)
		if err != nil {
			return nil, err
		}
		if following {
			out[i].FollowType |= FollowTypeFollowing
		}
		if follower {
			out[i].FollowType |= FollowTypeFollower
		}
	}
	return out, nil
}

// FollowPage is one page of follow_get: the users with their profile, and the cursor of
// the next page ("" after the last).
type FollowPage struct {
	Users []FollowUser
	Next  string
}

// FollowUser is one user of a follow list: since when the relation holds (for mutual
// followers, since the later of the two follows) and the user's nick and avatar.
type FollowUser struct {
	UserID  string
	Since   time.Time
	Nick    string
	FaceURL string
}

// FollowGet returns a page of the followers (kind 1), followed users (2) or mutual
// followers (3) of from, newest first. want 0 is DefaultFollowPage, more than
// MaxFollowPage is served as MaxFollowPage, a negative one is invalid; cursor is "" for the
// first page, else the Next of the previous one (an unreadable cursor is invalid).
func (s *Service) FollowGet(ctx context.Context, a Actor, from string, kind int, cursor string, want int) (FollowPage, error) {
	k := store.FollowKind(kind)
	if k != store.FollowKindFollowers && k != store.FollowKindFollowing && k != store.FollowKindMutual {
		return FollowPage{}, errcode.Invalid("FollowType", "must be 1 (followers), 2 (following) or 3 (mutual), not %d", kind)
	}
	switch {
	case want < 0:
		return FollowPage{}, errcode.Invalid("WantNum", "must not be negative")
	case want == 0:
		want = DefaultFollowPage
	case want > MaxFollowPage:
		want = MaxFollowPage
	}
	p := store.FollowListParams{App: a.App, UserID: from, Kind: k, Limit: want + 1}
	if cursor != "" {
		after, err := parseFollowCursor(cursor)
		if err != nil {
			return FollowPage{}, err
		}
		p.After = &after
	}
	if err := followFrom(ctx, s.store, a, from); err != nil {
		return FollowPage{}, err
	}
	es, err := s.store.FollowList(ctx, p)
	if err != nil {
		return FollowPage{}, err
	}
	var page FollowPage
	if len(es) > want {
		es = es[:want]
		page.Next = followCursor(es[want-1])
	}
	page.Users = make([]FollowUser, len(es))
	for i, e := range es {
		page.Users[i] = FollowUser{UserID: e.UserID, Since: e.Since}
		acc, err := s.store.AccountGet(ctx, a.App, e.UserID)
		switch {
		case err == nil:
			page.Users[i].Nick, page.Users[i].FaceURL = acc.Nick, acc.FaceURL
		case !errors.Is(err, store.ErrNotFound):
			return FollowPage{}, err
		}
	}
	return page, nil
}

// followCursor is the opaque cursor after e: "<relation time in ms>.<base64url user id>".
func followCursor(e store.FollowEntry) string {
	return strconv.FormatInt(e.Since.UnixMilli(), 10) + "." + base64.RawURLEncoding.EncodeToString([]byte(e.UserID))
}

func parseFollowCursor(c string) (store.FollowEntry, error) {
	bad := errcode.Invalid("StartCursor", "is not a cursor this server returned")
	msStr, userB64, ok := strings.Cut(c, ".")
	if !ok {
		return store.FollowEntry{}, bad
	}
	msec, err := strconv.ParseInt(msStr, 10, 64)
	if err != nil || msec < 0 {
		return store.FollowEntry{}, bad
	}
	user, err := base64.RawURLEncoding.DecodeString(userB64)
	if err != nil || len(user) == 0 {
		return store.FollowEntry{}, bad
	}
	return store.FollowEntry{UserID: string(user), Since: time.UnixMilli(msec)}, nil
}

// publishFollow is publish for follow events: the callback (followCallback) goes to tx's
// outbox ordered by the follower (FollowOrderingKey), and once tx commits the event goes to
// the observer.
func (s *Service) publishFollow(ctx context.Context, tx store.Tx, a Actor, ev FollowsChanged) error {
	cmd, body := followCallback(ev)
	if _, err := s.outbox.Enqueue(ctx, tx, webhook.Emit{
		App: a.App, RoomID: FollowOrderingKey(ev.From), Command: cmd, Body: body, ClientIP: a.ClientIP, Platform: a.Platform,
	}); err != nil {
		return err
	}
	tx.AfterCommit(func() { s.observe(ev) })
	return nil
}
