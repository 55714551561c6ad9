// Package account implements the IM account APIs that TUILiveKit shares with Chat: import,
// check and delete (https://www.tencentcloud.com/document/product/647/69887).
package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/store"
)

// Limits of the account APIs.
const (
	MaxUserIDBytes  = 32
	MaxProfileBytes = 500
	MaxBatch        = 100
)

// ErrProfileTooLong: a Nick or FaceUrl is longer than 500 bytes (40601). A malformed
// request is an *errcode.InvalidError, answered with 70402.
var ErrProfileTooLong = errcode.New(errcode.ProfileTooLong, "profile value longer than 500 bytes")

// Result codes inside ResultItem arrays.
const (
	ResultOK          = 0
	ResultNotImported = 70107
	ResultInvalid     = 70402
)

// ValidateUserID checks a UserID: 1..32 bytes of valid UTF-8 with no spaces or control
// characters, not in the reserved "@TIM#" namespace. (Tencent's libraries document the
// stricter [A-Za-z0-9_-]; roomd accepts what the client SDKs accept.)
func ValidateUserID(id string) error {
	switch {
	case id == "":
		return errcode.Invalid("UserID", "is empty")
	case len(id) > MaxUserIDBytes:
		return errcode.Invalid("UserID", "%q is longer than %d bytes", id, MaxUserIDBytes)
	case !utf8.ValidString(id):
		return errcode.Invalid("UserID", "is not valid UTF-8")
	case strings.HasPrefix(id, "@TIM#"):
		return errcode.Invalid("UserID", "%q uses the reserved @TIM# prefix", id)
	}
	for _, r := range id {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return errcode.Invalid("UserID", "%q contains a space or control character", id)
		}
	}
	return nil
}

// Profile is the optional profile of an imported account. A nil Nick or FaceURL was not
// given: importing an account again keeps its stored value (docs/decisions.md).
type Profile struct {
	UserID  string
	Nick    *string
	FaceURL *string
}

func (p Profile) validate() error {
	if err := ValidateUserID(p.UserID); err != nil {
		return err
	}
	if len(deref(p.Nick)) > MaxProfileBytes || len(deref(p.FaceURL)) > MaxProfileBytes {
		return fmt.Errorf("%w: account %s", ErrProfileTooLong, p.UserID)
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// upsert imports p in tx: a new account gets p's values (empty when absent), an existing
// one keeps the values p leaves absent.
func (s *Service) upsert(ctx context.Context, tx store.Tx, app uint64, p Profile) error {
	a := store.Account{App: app, UserID: p.UserID, Nick: deref(p.Nick), FaceURL: deref(p.FaceURL), CreatedAt: s.now()}
	if p.Nick == nil || p.FaceURL == nil {
		old, err := tx.AccountGet(ctx, app, p.UserID)
		switch {
		case err == nil:
			if p.Nick == nil {
				a.Nick = old.Nick
			}
			if p.FaceURL == nil {
				a.FaceURL = old.FaceURL
			}
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
	}
	_, err := tx.AccountUpsert(ctx, a)
	return err
}

// Service is the account API.
type Service struct {
	store store.Store
	now   func() time.Time
}

// NewService returns the account service.
func NewService(s store.Store, now func() time.Time) *Service {
	return &Service{store: s, now: now}
}

// Import imports one account; importing it again updates the profile values it names.
func (s *Service) Import(ctx context.Context, app uint64, p Profile) error {
	if err := p.validate(); err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx store.Tx) error { return s.upsert(ctx, tx, app, p) })
}

// Ensure imports userID with an empty profile unless it is an account already, whose
// profile it leaves alone. The client API calls it on a user's login: a user with a valid
// UserSig who was never imported becomes an account, as Tencent's SDK login makes it one.
func (s *Service) Ensure(ctx context.Context, app uint64, userID string) error {
	if _, err := s.store.AccountGet(ctx, app, userID); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return s.store.Tx(ctx, func(tx store.Tx) error {
		if _, err := tx.AccountGet(ctx, app, userID); err == nil {
			return nil
		}
		_, err := tx.AccountUpsert(ctx, store.Account{App: app, UserID: userID, CreatedAt: s.now()})
		return err
	})
}

// ImportMany imports up to 100 accounts; the invalid ones are returned as failed and the
// rest are imported.
func (s *Service) ImportMany(ctx context.Context, app uint64, ps []Profile) (failed []string, err error) {
	if err := batchSize(len(ps)); err != nil {
		return nil, err
	}
	var ok []Profile
	for _, p := range ps {
		if p.validate() != nil {
			failed = append(failed, p.UserID)
			continue
		}
		ok = append(ok, p)
	}
	if len(ok) == 0 {
		return failed, nil
	}
	err = s.store.Tx(ctx, func(tx store.Tx) error {
		for _, p := range ok {
			if err := s.upsert(ctx, tx, app, p); err != nil {
				return err
			}
		}
		return nil
	})
	return failed, err
}

// CheckResult is one account_check answer.
type CheckResult struct {
	UserID   string
	Code     int
	Info     string
	Imported bool
}

// Check reports for each UserID whether it is imported.
func (s *Service) Check(ctx context.Context, app uint64, ids []string) ([]CheckResult, error) {
	if err := batchSize(len(ids)); err != nil {
		return nil, err
	}
	out := make([]CheckResult, 0, len(ids))
	for _, id := range ids {
		r := CheckResult{UserID: id}
		if err := ValidateUserID(id); err != nil {
			r.Code, r.Info = ResultInvalid, err.Error()
			out = append(out, r)
			continue
		}
		_, err := s.store.AccountGet(ctx, app, id)
		switch {
		case err == nil:
			r.Imported = true
		case errors.Is(err, store.ErrNotFound):
		default:
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// DeleteResult is one account_delete answer.
type DeleteResult struct {
	UserID string
	Code   int
	Info   string
}

// Delete deletes accounts; one that does not exist gets ResultCode 70107.
func (s *Service) Delete(ctx context.Context, app uint64, ids []string) ([]DeleteResult, error) {
	if err := batchSize(len(ids)); err != nil {
		return nil, err
	}
	out := make([]DeleteResult, len(ids))
	err := s.store.Tx(ctx, func(tx store.Tx) error {
		for i, id := range ids {
			out[i] = DeleteResult{UserID: id}
			if err := ValidateUserID(id); err != nil {
				out[i].Code, out[i].Info = ResultInvalid, err.Error()
				continue
			}
			err := tx.AccountDelete(ctx, app, id)
			switch {
			case err == nil:
			case errors.Is(err, store.ErrNotFound):
				out[i].Code, out[i].Info = ResultNotImported, "Err_TLS_PT_Open_Login_Account_Not_Exist"
			default:
				return err
			}
		}
		return nil
	})
	return out, err
}

// batchSize checks the number of accounts one call names: 1 to MaxBatch.
func batchSize(n int) error {
	if n == 0 {
		return errcode.Invalid("", "the account list is empty")
	}
	if n > MaxBatch {
		return errcode.Invalid("", "%d accounts, at most %d per call", n, MaxBatch)
	}
	return nil
}
