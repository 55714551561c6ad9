package room

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

// The people APIs of a room (spec rest-api.md §3.3): members, admins, mutes and bans. Mutes
// and bans end on their own: every query compares their end with the injected clock, so an
// expired one is never listed and never enforced.

// Limits of the people APIs. The spec gives the ban batch (20), the reason length (200 B),
// the banned-list page (100) and the member-list cap (1000); the others are roomd's choices
// (docs/decisions.md).
const (
	// MaxAdmins is the most admins a room has (IM's group admin limit).
	MaxAdmins = 10
	// MaxMuteBatch is the most accounts one mute_member call names (IM's forbid_send_msg).
	MaxMuteBatch = 500
	// MaxBanBatch is the most accounts one ban_member or unban_member call names.
	MaxBanBatch = 20
	// MaxBanReasonBytes bounds a ban's Reason.
	MaxBanReasonBytes = 200
	// MaxDurationSeconds bounds MuteTime and a ban's Duration: a 32-bit unsigned count of
	// seconds, as in IM.
	MaxDurationSeconds = math.MaxUint32
	// MaxMemberListTotal is the most members get_member_list returns over all its pages.
	MaxMemberListTotal = 1000
	// MemberPageSize is the number of members per get_member_list page.
	MemberPageSize = 100
	// MaxBanListLimit is the largest page of get_banned_member_list, and its default.
	MaxBanListLimit = 100
)

// accountList checks a list of accounts named in a request (field is its name): at least
// one entry, at most maxN entries when maxN > 0, none empty or invalid UTF-8. It returns
// them without duplicates, in their first order. Every API that names a list of accounts
// checks it here.
func accountList(field string, users []string, maxN int) ([]string, error) {
	if len(users) == 0 {
		return nil, errcode.Invalid(field, "is required and must not be empty")
	}
	if maxN > 0 && len(users) > maxN {
		return nil, errcode.Invalid(field, "has %d entries, at most %d are allowed", len(users), maxN)
	}
	seen := make(map[string]bool, len(users))
	out := make([]string, 0, len(users))
	for _, u := range users {
		if u == "" {
			return nil, errcode.Invalid(field, "contains an empty account")
		}
		if !utf8.ValidString(u) {
			return nil, errcode.Invalid(field, "contains an account that is not valid UTF-8")
		}
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out, nil
}

// requireAccounts checks that every user is an imported account (70107 otherwise).
func requireAccounts(ctx context.Context, r store.Reader, app uint64, field string, users []string) error {
	for _, u := range users {
		if err := requireAccount(ctx, r, app, field, u); err != nil {
			return err
		}
	}
	return nil
}

func durationSeconds(field string, v int64, minV int64) (time.Duration, error) {
	if v < minV || v > MaxDurationSeconds {
		return 0, errcode.Invalid(field, "must be between %d and %d seconds", minV, int64(MaxDurationSeconds))
	}
	return time.Duration(v) * time.Second, nil
}

// until returns when a mute or ban of d that starts at now ends: d after the start of the
// current second, so that the whole-second MutedUntil / BannedUntil the APIs report is
// exactly the moment it ends.
func until(now time.Time, d time.Duration) time.Time {
	return time.Unix(now.Unix(), 0).Add(d)
}

// MemberPage is one page of get_member_list.
type MemberPage struct {
	// Next is the cursor of the next page; empty at the end of the list or once
	// MaxMemberListTotal members were returned.
	Next string
	// MemberCount is the number of members in the room (robots included), not capped.
	MemberCount int
	Members     []string
}

// memberCursor is the position get_member_list's Next encodes: how many members were
// returned so far, and the last of them (join time in ms, user id).
type memberCursor struct {
	returned int
	joinedMS int64
	userID   string
}

func (c memberCursor) String() string {
	return strconv.Itoa(c.returned) + "." + strconv.FormatInt(c.joinedMS, 10) + "." + base64.RawURLEncoding.EncodeToString([]byte(c.userID))
}

// ParseMemberCursor reads a get_member_list Next value: "" (or "0", which Tencent's Manager
// sends for first pages) starts at the top; anything else must be a cursor this server
// returned, "<returned>.<join ms>.<base64url user id>".
func ParseMemberCursor(next string) (returned int, after *store.Member, err error) {
	if next == "" || next == "0" {
		return 0, nil, nil
	}
	bad := errcode.Invalid("Next", "%q is not a cursor returned by get_member_list", next)
	parts := strings.Split(next, ".")
	if len(parts) != 3 {
		return 0, nil, bad
	}
	n, err := strconv.Atoi(parts[0])
	if err != nil || n <= 0 || n >= MaxMemberListTotal || parts[0] != strconv.Itoa(n) {
		return 0, nil, bad
	}
	joined, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || joined < 0 || parts[1] != strconv.FormatInt(joined, 10) {
		return 0, nil, bad
	}
	user, err := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	// The decoder skips '\r' and '\n'; only the exact text this server wrote is a cursor.
	if err != nil || len(user) == 0 || !utf8.Valid(user) || base64.RawURLEncoding.EncodeToString(user) != parts[2] {
		return 0, nil, bad
	}
	return n, &store.Member{UserID: string(user), JoinedAt: fromMSCursor(joined)}, nil
}

func fromMSCursor(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

func msCursor(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// MemberList returns a page of a room's members (robots included) in join order. At most
// MaxMemberListTotal members are returned over all pages (spec rest-api.md §3.3); after that
// Next is empty even if more are in the room, and MemberCount tells how many there are.
func (s *Service) MemberList(ctx context.Context, app uint64, roomID, next string) (MemberPage, error) {
	if err := ValidateRoomID(roomID); err != nil {
		return MemberPage{}, err
	}
	returned, after, err := ParseMemberCursor(next)
	if err != nil {
		return MemberPage{}, err
	}
	if _, err := requireRoom(ctx, s.store, app, roomID); err != nil {
		return MemberPage{}, err
	}
	count, err := s.store.MemberCount(ctx, app, roomID, store.MembersAll)
	if err != nil {
		return MemberPage{}, err
	}
	if after != nil {
		after.App, after.RoomID = app, roomID
	}
	limit := min(MemberPageSize, MaxMemberListTotal-returned)
	rows, err := s.store.MemberList(ctx, store.MemberListParams{App: app, RoomID: roomID, Kind: store.MembersAll, Limit: limit + 1, After: after})
	if err != nil {
		return MemberPage{}, err
	}
	page := MemberPage{MemberCount: count, Members: []string{}}
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	for _, m := range rows {
		page.Members = append(page.Members, m.UserID)
	}
	returned += len(rows)
	if more && returned < MaxMemberListTotal {
		last := rows[len(rows)-1]
		page.Next = memberCursor{returned: returned, joinedMS: msCursor(last.JoinedAt), userID: last.UserID}.String()
	}
	return page, nil
}

// ModifyAdmin adds (op "add") or removes (op "delete") room admins and publishes
// AdminsChanged (Live.CallbackAfterModifyAdmin) listing the users whose role changed; when none changed
// (adding admins again, removing non-admins) it succeeds without a callback. Added users
// must be imported accounts other than the owner, and a room has at most MaxAdmins admins.
// Removed users need not exist any more. Only the owner (or an App admin) modifies admins.
func (s *Service) ModifyAdmin(ctx context.Context, a Actor, roomID string, users []string, op string) error {
	if err := ValidateRoomID(roomID); err != nil {
		return err
	}
	if op != webhook.AdminAdd && op != webhook.AdminDelete {
		return errcode.Invalid("OpType", "must be \"add\" or \"delete\"")
	}
	users, err := accountList("Admin_Account", users, MaxAdmins)
	if err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx store.Tx) error {
		row, err := requireRoom(ctx, tx, a.App, roomID)
		if err != nil {
			return err
		}
		if err := authorize(ctx, tx, a, row, RoleOwner); err != nil {
			return err
		}
		var changed []string
		if op == webhook.AdminAdd {
			if err := requireAccounts(ctx, tx, a.App, "Admin_Account", users); err != nil {
				return err
			}
			now := s.now()
			for _, u := range users {
				if u == row.Owner {
					return errcode.Invalid("", "%s is the room owner and cannot be made an admin", u)
				}
				created, err := tx.AdminAdd(ctx, a.App, roomID, u, now)
				if err != nil {
					return err
				}
				if created {
					changed = append(changed, u)
				}
			}
			admins, err := tx.AdminList(ctx, a.App, roomID)
			if err != nil {
				return err
			}
			if len(admins) > MaxAdmins {
				return errcode.Invalid("", "a room has at most %d admins (it would have %d)", MaxAdmins, len(admins))
			}
		} else {
			for _, u := range users {
				removed, err := tx.AdminRemove(ctx, a.App, roomID, u)
				if err != nil {
					return err
				}
				if removed {
					changed = append(changed, u)
				}
			}
		}
		if len(changed) == 0 {
			return nil
		}
		return s.publish(ctx, tx, a, AdminsChanged{EventHead: s.head(a, roomID), Users: changed, Added: op == webhook.AdminAdd})
	})
}

// AdminList returns a room's admins in the order they were added.
func (s *Service) AdminList(ctx context.Context, app uint64, roomID string) ([]string, error) {
	if err := ValidateRoomID(roomID); err != nil {
		return nil, err
	}
	if _, err := requireRoom(ctx, s.store, app, roomID); err != nil {
		return nil, err
	}
	return s.store.AdminList(ctx, app, roomID)
}

// Mute mutes users for seconds (which must be imported accounts), or lifts their mutes when
// seconds is 0. Muting again replaces the earlier end. It publishes MemberMuted for each
// user muted, and for each whose mute was lifted; no callback exists for mutes. The owner and room admins (and App admins) mute, an
// App user only users below its role (mayActOn).
func (s *Service) Mute(ctx context.Context, a Actor, roomID string, users []string, seconds int64) error {
	if err := ValidateRoomID(roomID); err != nil {
		return err
	}
	users, err := accountList("MemberList_Account", users, MaxMuteBatch)
	if err != nil {
		return err
	}
	d, err := durationSeconds("MuteTime", seconds, 0)
	if err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx store.Tx) error {
		row, err := requireRoom(ctx, tx, a.App, roomID)
		if err != nil {
			return err
		}
		if err := s.mayActOnAll(ctx, tx, a, row, users); err != nil {
			return err
		}
		h := s.head(a, roomID)
		if d == 0 {
			for _, u := range users {
				lifted, err := tx.MuteDelete(ctx, a.App, roomID, u)
				if err != nil {
					return err
				}
				if !lifted {
					continue
				}
				if err := s.publish(ctx, tx, a, MemberMuted{EventHead: h, UserID: u}); err != nil {
					return err
				}
			}
			return nil
		}
		if err := requireAccounts(ctx, tx, a.App, "MemberList_Account", users); err != nil {
			return err
		}
		end := until(h.Time, d)
		for _, u := range users {
			if err := tx.MutePut(ctx, store.Mute{App: a.App, RoomID: roomID, UserID: u, Until: end, CreatedAt: h.Time}); err != nil {
				return err
			}
			if err := s.publish(ctx, tx, a, MemberMuted{EventHead: h, UserID: u, Muted: true, Until: end}); err != nil {
				return err
			}
		}
		return nil
	})
}

// mayActOnAll checks that an App user may act on each of users (mayActOn, as a room admin
// at least); App admins act on anyone, within each operation's own rules.
func (s *Service) mayActOnAll(ctx context.Context, r store.Reader, a Actor, row store.Room, users []string) error {
	if a.AppAdmin {
		return nil
	}
	if err := authorize(ctx, r, a, row, RoleAdmin); err != nil {
		return err
	}
	for _, u := range users {
		if err := s.mayActOn(ctx, r, a, row, u, RoleAdmin); err != nil {
			return err
		}
	}
	return nil
}

// MutedList returns the mutes of a room that are still running, ordered by user id.
func (s *Service) MutedList(ctx context.Context, app uint64, roomID string) ([]store.Mute, error) {
	if err := ValidateRoomID(roomID); err != nil {
		return nil, err
	}
	if _, err := requireRoom(ctx, s.store, app, roomID); err != nil {
		return nil, err
	}
	return s.store.MuteList(ctx, app, roomID, s.now())
}

// Ban bans users (imported accounts other than the owner) from a room for seconds (at least
// 1): they are removed from its members, robots included, and may not enter again until the
// ban ends. Banning again replaces the earlier end and reason. Those actually removed are
// reported by UserKicked each, then one MembersOffline (Kicked), whose callback is
// Live.CallbackAfterMemberStateChanged; when none of them was in the room, nothing is
// published. The owner and room admins (and App admins) ban, an App user only users below
// its role (mayActOn).
func (s *Service) Ban(ctx context.Context, a Actor, roomID string, users []string, seconds int64, reason string) error {
	if err := ValidateRoomID(roomID); err != nil {
		return err
	}
	users, err := accountList("MemberList_Account", users, MaxBanBatch)
	if err != nil {
		return err
	}
	d, err := durationSeconds("Duration", seconds, 1)
	if err != nil {
		return err
	}
	if err := maxBytes("Reason", reason, MaxBanReasonBytes); err != nil {
		return err
	}
	defer s.live.lock(liveKey{a.App, roomID})()
	return s.store.Tx(ctx, func(tx store.Tx) error {
		row, err := requireRoom(ctx, tx, a.App, roomID)
		if err != nil {
			return err
		}
		if err := s.mayActOnAll(ctx, tx, a, row, users); err != nil {
			return err
		}
		if err := requireAccounts(ctx, tx, a.App, "MemberList_Account", users); err != nil {
			return err
		}
		now := s.now()
		for _, u := range users {
			if u == row.Owner {
				return errcode.Invalid("", "%s is the room owner and cannot be banned", u)
			}
			if err := tx.BanPut(ctx, store.Ban{App: a.App, RoomID: roomID, UserID: u, Until: until(now, d), Reason: reason, CreatedAt: now}); err != nil {
				return err
			}
		}
		_, err = s.removeMembers(ctx, tx, a, row, users, reason)
		return err
	})
}

// Unban lifts the bans of users; naming a user who is not banned is not an error. The owner
// and room admins (and App admins) lift bans.
func (s *Service) Unban(ctx context.Context, a Actor, roomID string, users []string) error {
	if err := ValidateRoomID(roomID); err != nil {
		return err
	}
	users, err := accountList("MemberList_Account", users, MaxBanBatch)
	if err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx store.Tx) error {
		row, err := requireRoom(ctx, tx, a.App, roomID)
		if err != nil {
			return err
		}
		if err := authorize(ctx, tx, a, row, RoleAdmin); err != nil {
			return err
		}
		for _, u := range users {
			if _, err := tx.BanDelete(ctx, a.App, roomID, u); err != nil {
				return err
			}
		}
		return nil
	})
}

// BannedList returns a page of the bans of a room that are still running, oldest ban first,
// and the offset of the next page (0 when this page is the last). limit 0 means
// MaxBanListLimit.
func (s *Service) BannedList(ctx context.Context, app uint64, roomID string, offset, limit int) ([]store.Ban, int, error) {
	if err := ValidateRoomID(roomID); err != nil {
		return nil, 0, err
	}
	if offset < 0 || offset > math.MaxInt32 {
		return nil, 0, errcode.Invalid("Offset", "must be between 0 and %d", math.MaxInt32)
	}
	if limit < 0 || limit > MaxBanListLimit {
		return nil, 0, errcode.Invalid("Limit", "must be between 1 and %d", MaxBanListLimit)
	}
	if limit == 0 {
		limit = MaxBanListLimit
	}
	if _, err := requireRoom(ctx, s.store, app, roomID); err != nil {
		return nil, 0, err
	}
	bans, err := s.store.BanList(ctx, store.BanListParams{App: app, RoomID: roomID, Now: s.now(), Offset: offset, Limit: limit + 1})
	if err != nil {
		return nil, 0, err
	}
	next := 0
	if len(bans) > limit {
		bans = bans[:limit]
		next = offset + limit
	}
	return bans, next, nil
}

// checkNotBanned returns ErrBanned when userID is banned from the room at now. Every way
// into a room (add_robot, joins) and every message send calls it in its transaction.
func checkNotBanned(ctx context.Context, r store.Reader, app uint64, roomID, userID string, now time.Time) error {
	banned, err := r.BanActive(ctx, app, roomID, userID, now)
	if err != nil {
		return err
	}
	if banned {
		return fmt.Errorf("%w: %s is banned from room %s until the ban ends", ErrBanned, userID, roomID)
	}
	return nil
}
