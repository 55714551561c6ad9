package room

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

// Seats: the numbered places of a room from which users publish audio and video (Tencent's
// "co-guest" seats, room_engine_http_mic). A room has seatCount seats, indexed from 0. The
// invariants every operation keeps:
//
//   - one user sits on at most one seat of a room, and only a member of the room (a user
//     who entered through the client API, or a robot) sits on a seat: leaving the room in
//     any way (exit, lost heartbeat, kick, ban, robot deleted) frees the seat;
//   - a locked seat (Locked, Tencent's IsTakenDisabled) is empty and refuses everyone;
//   - with KeepOwnerOnSeat, seat 0 is the owner's: the owner sits there whenever it is in
//     the room, nobody else takes it, and the owner neither leaves it nor is moved or kicked
//     off it;
//   - a user has at most one pending application (TakeSeatMode ApplyToTake) per room, and
//     none while it sits on a seat.
//
// Each operation runs in one transaction and publishes, when the seats changed,
// SeatsChanged with the full list (Mic.CallbackAfterSeatInfoChanged and the client push
// onSeatListChanged).

// MaxSeats is the largest MaxSeatCount an AudioSalon or Karaoke room may be created with.
const MaxSeats = 50

// Sentinel errors of the seat operations, with the codes of pick_user_on_seat's and
// lock_seat's pages (https://www.tencentcloud.com/document/product/647/60718).
var (
	// ErrSeatsDisabled: the room has no seats (IsSeatEnabled false) (100211).
	ErrSeatsDisabled = errcode.New(errcode.SeatsDisabled, "this room does not support seats")
	// ErrSeatLocked: the seat is locked, or kept for the owner (100200).
	ErrSeatLocked = errcode.New(errcode.SeatLocked, "the seat is locked, try another seat")
	// ErrSeatOccupied: the target seat is taken (100210).
	ErrSeatOccupied = errcode.New(errcode.SeatOccupied, "the seat is occupied")
	// ErrSeatsFull: every seat is taken (100205).
	ErrSeatsFull = errcode.New(errcode.SeatsFull, "all seats are full")
	// ErrAlreadyOnSeat: the user already sits on a seat (100203).
	ErrAlreadyOnSeat = errcode.New(errcode.AlreadyOnSeat, "the user is already on a seat")
	// ErrSeatRequestPending: the user is already applying for a seat (100202).
	ErrSeatRequestPending = errcode.New(errcode.SeatRequestPending, "the user is already applying for a seat")
	// ErrOwnerKeptOnSeat: the owner of a KeepOwnerOnSeat room cannot leave, be moved or be
	// kicked off seat 0, nor can seat 0 be locked (100006).
	ErrOwnerKeptOnSeat = errcode.New(errcode.NoPermission, "the room owner is kept on seat 0 (KeepOwnerOnSeat)")
)

// Outcomes of a seat application (SeatRequestEnded).
const (
	SeatRequestAccepted  = "accepted"
	SeatRequestRejected  = "rejected"
	SeatRequestCancelled = "cancelled" // by the applicant, or because it left the room
	SeatRequestTimeout   = "timeout"
)

// Seat is one seat of a room; UserID is empty for an empty seat.
type Seat struct {
	Index       int
	UserID      string
	Locked      bool // nobody may take it (IsTakenDisabled)
	VideoLocked bool // no video may be published from it (IsVideoDisabled)
	AudioLocked bool // no audio may be published from it (IsAudioDisabled)
}

// SeatRequest is a pending application to take a seat. Index is -1 for any free seat; a
// zero ExpiresAt never expires.
type SeatRequest struct {
	ID        string
	RoomID    string
	UserID    string
	Index     int
	CreatedAt time.Time
	ExpiresAt time.Time
}

// SeatLocks says which locks lock_seat changes; nil leaves a lock as it is.
type SeatLocks struct {
	Taken, Video, Audio *bool
}

// Policies of MoveUserToSeat when the target seat is occupied (move_user_to_seat's Policy).
const (
	MoveCancel = 0 // refuse with ErrSeatOccupied
	MoveForce  = 1 // kick the occupant off the seat
	MoveSwap   = 2 // the occupant takes the mover's seat
)

// SeatInfos renders seats as Tencent's seat objects (get_seat_list, the callback).
func SeatInfos(seats []Seat) []webhook.SeatInfo {
	out := make([]webhook.SeatInfo, len(seats))
	for i, s := range seats {
		out[i] = webhook.SeatInfo{Index: s.Index, Member_Account: s.UserID, IsTakenDisabled: s.Locked,
			IsVideoDisabled: s.VideoLocked, IsAudioDisabled: s.AudioLocked}
	}
	return out
}

// seatCount is how many seats a room has: none without IsSeatEnabled, else its
// MaxSeatCount, which Create set from the template unless the request named AudioSalon or
// Karaoke (the only templates whose MaxSeatCount Tencent honours) or no template at all (the
// generations before SeatTemplate).
func seatCount(in seatSettings) int {
	if !in.IsSeatEnabled {
		return 0
	}
	if in.MaxSeatCount > 0 {
		return min(in.MaxSeatCount, MaxSeats)
	}
	return seatTemplates[in.SeatTemplate]
}

// maxSeatCountCounts reports whether a template takes its seat count from MaxSeatCount
// (create_room, https://www.tencentcloud.com/document/product/647/63401).
func maxSeatCountCounts(template string) bool {
	return template == "AudioSalon" || template == "Karaoke"
}

// keepOwnerOnSeatTrue is how Room.row, the only writer of a room's Info, spells a true
// KeepOwnerOnSeat: encoding/json writes no spaces, and inside a JSON string every quote is
// escaped, so these bytes appear in an Info exactly when its KeepOwnerOnSeat is true.
var keepOwnerOnSeatTrue = []byte(`"KeepOwnerOnSeat":true`)

// mayKeepOwnerSeat reports whether the room row may keep seat 0 for its owner, looking at
// the bytes of its Info without decoding them: false means loadSeats(row).keepsOwner()
// would be false, true that loadSeats must tell. An owner change (ownerSeatChanged) of
// the common room, which does not keep seat 0 for its owner, so reads and decodes nothing.
func mayKeepOwnerSeat(row store.Room) bool { return bytes.Contains(row.Info, keepOwnerOnSeatTrue) }

// seatSettings are the fields of a room's Info that its seats depend on.
type seatSettings struct {
	IsSeatEnabled   bool   `json:"IsSeatEnabled"`
	MaxSeatCount    int    `json:"MaxSeatCount"`
	SeatTemplate    string `json:"SeatTemplate"`
	KeepOwnerOnSeat bool   `json:"KeepOwnerOnSeat"`
	TakeSeatMode    string `json:"TakeSeatMode"`
}

// decodeSeatSettings reads the seat settings of a room's Info. Every seat operation reads
// them, and decoding the whole Info cost an owner change more than its seat query, so it
// picks the five fields from the bytes as Room.row, the only writer of an Info, spells
// them (encoding/json: no spaces, no escapes in these values; inside a JSON string every
// quote is escaped, so a key's bytes never match inside a value). Anything else (a key
// missing, a value of another shape) is decoded by encoding/json, with the same result.
func decodeSeatSettings(info []byte) (seatSettings, error) {
	var out seatSettings
	ok := scanJSONBool(info, `"IsSeatEnabled":`, &out.IsSeatEnabled) &&
		scanJSONBool(info, `"KeepOwnerOnSeat":`, &out.KeepOwnerOnSeat) &&
		scanJSONInt(info, `"MaxSeatCount":`, &out.MaxSeatCount) &&
		scanJSONString(info, `"SeatTemplate":`, &out.SeatTemplate) &&
		scanJSONString(info, `"TakeSeatMode":`, &out.TakeSeatMode)
	if ok {
		return out, nil
	}
	out = seatSettings{}
	if err := json.Unmarshal(info, &out); err != nil {
		return seatSettings{}, err
	}
	return out, nil
}

// jsonValue returns the bytes after the last occurrence of key (a quoted member name and
// its colon) in info: encoding/json keeps the last of repeated names too. It looks for the
// key without its opening quote and checks the quote before each match, which finds the
// same occurrences: searching for the quote itself stopped at every quote of the Info, and
// bytes.LastIndex hashes every byte; together they were 4 % of an owner change's CPU.
func jsonValue(info []byte, key string) ([]byte, bool) {
	k := key[1:]
	last := -1
	for off := 0; off < len(info); {
		j := bytes.Index(info[off:], []byte(k))
		if j < 0 {
			break
		}
		if p := off + j; p > 0 && info[p-1] == key[0] {
			last = p - 1
		}
		off += j + 1
	}
	if last < 0 {
		return nil, false
	}
	return info[last+len(key):], true
}

// jsonEndsValue reports whether b starts with what follows a member's value in Room.row's
// spelling: a comma or the closing brace.
func jsonEndsValue(b []byte) bool { return len(b) > 0 && (b[0] == ',' || b[0] == '}') }

func scanJSONBool(info []byte, key string, dst *bool) bool {
	v, ok := jsonValue(info, key)
	switch {
	case !ok:
		return false
	case bytes.HasPrefix(v, []byte("true")) && jsonEndsValue(v[4:]):
		*dst = true
	case bytes.HasPrefix(v, []byte("false")) && jsonEndsValue(v[5:]):
		*dst = false
	default:
		return false
	}
	return true
}

func scanJSONInt(info []byte, key string, dst *int) bool {
	v, ok := jsonValue(info, key)
	if !ok {
		return false
	}
	n := 0
	for n < len(v) && v[n] >= '0' && v[n] <= '9' {
		n++
	}
	if n == 0 || n > 9 || (n > 1 && v[0] == '0') || !jsonEndsValue(v[n:]) {
		return false
	}
	x, err := strconv.Atoi(string(v[:n]))
	if err != nil {
		return false
	}
	*dst = x
	return true
}

func scanJSONString(info []byte, key string, dst *string) bool {
	v, ok := jsonValue(info, key)
	if !ok || len(v) == 0 || v[0] != '"' {
		return false
	}
	end := bytes.IndexByte(v[1:], '"')
	if end < 0 {
		return false
	}
	s := v[1 : 1+end]
	if bytes.IndexByte(s, '\\') >= 0 || !jsonEndsValue(v[2+end:]) {
		return false
	}
	for _, c := range s {
		if c < 0x20 || c >= 0x80 {
			return false // control bytes and UTF-8 are encoding/json's to judge
		}
	}
	*dst = string(s)
	return true
}

// seatState is a room's seats read in a transaction, changed in memory by an operation and
// written back by saveSeats.
type seatState struct {
	row      store.Room
	settings seatSettings
	before   []Seat
	seats    []Seat
	// kicked are the users kicked off a seat by this operation, with the seat and the data
	// forwarded to them (SeatKicked).
	kicked []SeatKicked
}

func (s *Service) loadSeats(ctx context.Context, tx store.Reader, row store.Room) (*seatState, error) {
	r, err := decodeSeatSettings(row.Info)
	if err != nil {
		return nil, fmt.Errorf("decode room %s: %w", row.RoomID, err)
	}
	var stored []store.Seat
	if seatCount(r) > 0 {
		if stored, err = tx.SeatList(ctx, row.App, row.RoomID); err != nil {
			return nil, err
		}
	}
	return newSeatState(row, r, stored), nil
}

// newSeatState returns the seats of the room row with settings r, of which stored are the
// stored ones (store.SeatReader.SeatList).
func newSeatState(row store.Room, r seatSettings, stored []store.Seat) *seatState {
	n := seatCount(r)
	seats := make([]Seat, n)
	for i := range seats {
		seats[i].Index = i
	}
	for _, x := range stored {
		if x.Index >= 0 && x.Index < n {
			seats[x.Index] = Seat{Index: x.Index, UserID: x.UserID, Locked: x.Locked, VideoLocked: x.VideoLocked, AudioLocked: x.AudioLocked}
		}
	}
	return &seatState{row: row, settings: r, before: slices.Clone(seats), seats: seats}
}

// enabled returns ErrSeatsDisabled for a room without seats.
func (st *seatState) enabled() error {
	if len(st.seats) == 0 {
		return fmt.Errorf("%w: room %s", ErrSeatsDisabled, st.row.RoomID)
	}
	return nil
}

// keepsOwner reports whether seat 0 is the owner's.
func (st *seatState) keepsOwner() bool { return st.settings.KeepOwnerOnSeat && len(st.seats) > 0 }

// checkIndex returns an invalid-parameter error naming field unless i is a seat.
func (st *seatState) checkIndex(field string, i int) error {
	if i < 0 || i >= len(st.seats) {
		return errcode.Invalid(field, "must be a seat index from 0 to %d, not %d", len(st.seats)-1, i)
	}
	return nil
}

// seatOf returns the index of user's seat, or -1.
func (st *seatState) seatOf(user string) int { return seatIndexOf(st.seats, user) }

// seatIndexOf returns the place in seats of the seat user sits on, or -1 ("" sits nowhere).
func seatIndexOf(seats []Seat, user string) int {
	if user == "" {
		return -1
	}
	for i, s := range seats {
		if s.UserID == user {
			return i
		}
	}
	return -1
}

// freeSeat returns the first seat user may take now, or -1 when none is free for it.
func (st *seatState) freeSeat(user string) int {
	for i := range st.seats {
		if st.takeable(user, i) == nil {
			return i
		}
	}
	return -1
}

// takeable says whether user may sit on seat i now: ErrSeatLocked for a locked seat or
// another's seat 0 in a KeepOwnerOnSeat room (or a seat other than 0 for its owner),
// ErrSeatOccupied (ErrSeatsFull when no seat at all is free) for a taken one.
func (st *seatState) takeable(user string, i int) error {
	s := st.seats[i]
	switch {
	case st.keepsOwner() && i == 0 && user != st.row.Owner:
		return fmt.Errorf("%w: seat 0 is kept for the room owner %s", ErrSeatLocked, st.row.Owner)
	case st.keepsOwner() && i != 0 && user == st.row.Owner:
		return fmt.Errorf("%w: the room owner sits on seat 0 (KeepOwnerOnSeat)", ErrSeatLocked)
	case s.Locked:
		return fmt.Errorf("%w: seat %d", ErrSeatLocked, i)
	case s.UserID != "" && s.UserID != user:
		return fmt.Errorf("%w: seat %d", ErrSeatOccupied, i)
	}
	return nil
}

// placeAt checks that user may sit on seat i and seats it; index -1 picks the first free
// seat. It returns the seat taken.
func (st *seatState) placeAt(user string, i int) (int, error) {
	if i == -1 {
		if i = st.freeSeat(user); i < 0 {
			return 0, fmt.Errorf("%w: room %s", ErrSeatsFull, st.row.RoomID)
		}
	}
	if err := st.takeable(user, i); err != nil {
		if errors.Is(err, ErrSeatOccupied) && st.freeSeat(user) < 0 {
			return 0, fmt.Errorf("%w: room %s", ErrSeatsFull, st.row.RoomID)
		}
		return 0, err
	}
	st.seats[i].UserID = user
	return i, nil
}

// vacate takes user off its seat and returns the seat, or -1 when it sat nowhere.
func (st *seatState) vacate(user string) int {
	i := st.seatOf(user)
	if i >= 0 {
		st.seats[i].UserID = ""
	}
	return i
}

// kick takes the occupant of seat i off it, telling it data (SeatKicked).
func (st *seatState) kick(i int, data string) {
	if u := st.seats[i].UserID; u != "" {
		st.seats[i].UserID = ""
		st.kicked = append(st.kicked, SeatKicked{UserID: u, Index: i, Data: data})
	}
}

// saveSeats writes the seats that changed and publishes SeatKicked for each user kicked off
// a seat, then SeatsChanged with the full list when anything changed. Users moving to
// another seat are taken off their seat first, so the store's one-seat-per-user rule holds
// at every step of a move or swap.
func (s *Service) saveSeats(ctx context.Context, tx store.Tx, a Actor, st *seatState) error {
	var changed []int
	for i := range st.seats {
		if st.seats[i] != st.before[i] {
			changed = append(changed, i)
		}
	}
	h := s.head(a, st.row.RoomID)
	for _, k := range st.kicked {
		k.EventHead = h
		if err := s.publish(ctx, tx, a, k); err != nil {
			return err
		}
	}
	if len(changed) == 0 {
		return nil
	}
	put := func(x Seat) error {
		return tx.SeatPut(ctx, store.Seat{App: st.row.App, RoomID: st.row.RoomID, Index: x.Index, UserID: x.UserID,
			Locked: x.Locked, VideoLocked: x.VideoLocked, AudioLocked: x.AudioLocked})
	}
	// One user sits on one seat (store.ErrConflict otherwise), so a seat whose new user sat
	// on another seat before is written only after that seat was written: a move becomes a
	// chain of writes in order. Seats that wait on each other in a cycle (a swap) wait for
	// one of them to be cleared, once, and it is written in full after the others. A swap is
	// three writes, a move two.
	//
	// waits(i) is whether changed seat i still waits: its new user is on a changed seat not
	// written yet. A seat that is not changed is never written, so nothing waits on it (a
	// user left on it as well is the store's conflict to refuse).
	isChanged, written := make([]bool, len(st.seats)), make([]bool, len(st.seats))
	for _, i := range changed {
		isChanged[i] = true
	}
	waits := func(i int) bool {
		j := seatIndexOf(st.before, st.seats[i].UserID)
		return j >= 0 && j != i && isChanged[j] && !written[j]
	}
	for pending := changed; len(pending) > 0; { // (changed is not used after this)
		rest := pending[:0]
		for _, i := range pending {
			if waits(i) {
				rest = append(rest, i)
				continue
			}
			if err := put(st.seats[i]); err != nil {
				if errors.Is(err, store.ErrConflict) {
					return fmt.Errorf("seats of room %s: a user on two seats: %w", st.row.RoomID, err)
				}
				return err
			}
			written[i] = true
		}
		if len(rest) == len(pending) {
			// None could be written: the seats left wait on each other in cycles (each
			// waits on one changed seat, and each is waited on by one at most). Clearing
			// one, not written yet, lets its cycle unwind.
			k := slices.IndexFunc(rest, func(i int) bool { return !written[i] })
			if k < 0 {
				return fmt.Errorf("seats of room %s: a user on two seats: %w", st.row.RoomID, store.ErrConflict)
			}
			x := st.seats[rest[k]]
			x.UserID = ""
			if err := put(x); err != nil {
				return err
			}
			written[rest[k]] = true
		}
		pending = rest
	}
	ev := SeatsChanged{EventHead: h, Seats: slices.Clone(st.seats)}
	was := map[string]bool{}
	for _, x := range st.before {
		if x.UserID != "" {
			was[x.UserID] = true
		}
	}
	is := map[string]bool{}
	for _, x := range st.seats {
		if x.UserID != "" {
			is[x.UserID] = true
			if !was[x.UserID] {
				ev.Seated = append(ev.Seated, x)
			}
		}
	}
	for _, x := range st.before {
		if x.UserID != "" && !is[x.UserID] {
			ev.Left = append(ev.Left, x)
		}
	}
	st.before = slices.Clone(st.seats)
	st.kicked = nil
	return s.publish(ctx, tx, a, ev)
}

// seatTx runs fn on a room's seats in one transaction and saves what fn changed.
func (s *Service) seatTx(ctx context.Context, a Actor, roomID string, fn func(tx store.Tx, st *seatState) error) error {
	if err := ValidateRoomID(roomID); err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx store.Tx) error {
		row, err := requireRoom(ctx, tx, a.App, roomID)
		if err != nil {
			return err
		}
		st, err := s.loadSeats(ctx, tx, row)
		if err != nil {
			return err
		}
		if err := fn(tx, st); err != nil {
			return err
		}
		return s.saveSeats(ctx, tx, a, st)
	})
}

// requireSeatMember returns ErrNotMember unless user is in the room (a person who entered,
// or a robot).
func requireSeatMember(ctx context.Context, tx store.Reader, row store.Room, user string) error {
	_, err := tx.MemberGet(ctx, row.App, row.RoomID, user)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %s is not in room %s", ErrNotMember, user, row.RoomID)
	}
	return err
}

// pendingRequestOf returns user's pending application in the room, if any.
func pendingRequestOf(ctx context.Context, tx store.Reader, row store.Room, user string) (store.SeatRequest, bool, error) {
	reqs, err := tx.SeatRequestList(ctx, row.App, row.RoomID)
	if err != nil {
		return store.SeatRequest{}, false, err
	}
	for _, r := range reqs {
		if r.UserID == user {
			return r, true, nil
		}
	}
	return store.SeatRequest{}, false, nil
}

// Seats returns a room's seats, all of them, by index (get_seat_list); a room without seats
// has none.
func (s *Service) Seats(ctx context.Context, app uint64, roomID string) ([]Seat, error) {
	if err := ValidateRoomID(roomID); err != nil {
		return nil, err
	}
	row, err := requireRoom(ctx, s.store, app, roomID)
	if err != nil {
		return nil, err
	}
	st, err := s.loadSeats(ctx, s.store, row)
	if err != nil {
		return nil, err
	}
	return st.seats, nil
}

// PickOnSeat puts a member of the room on seat index (pick_user_on_seat,
// takeUserOnSeatByAdmin). The owner and room admins (and App admins) pick users. The user
// must be in the room (ErrNotMember), on no seat (ErrAlreadyOnSeat) and not applying for one
// (ErrSeatRequestPending); the seat must be free (ErrSeatLocked, ErrSeatOccupied, or
// ErrSeatsFull when no seat is free at all).
func (s *Service) PickOnSeat(ctx context.Context, a Actor, roomID string, index int, user string) error {
	if user == "" {
		return errcode.Invalid("Member_Account", "is required")
	}
	return s.seatTx(ctx, a, roomID, func(tx store.Tx, st *seatState) error {
		if err := authorize(ctx, tx, a, st.row, RoleAdmin); err != nil {
			return err
		}
		if err := st.enabled(); err != nil {
			return err
		}
		if err := st.checkIndex("Index", index); err != nil {
			return err
		}
		if err := requireSeatMember(ctx, tx, st.row, user); err != nil {
			return err
		}
		if i := st.seatOf(user); i >= 0 {
			return fmt.Errorf("%w: %s is on seat %d", ErrAlreadyOnSeat, user, i)
		}
		if _, pending, err := pendingRequestOf(ctx, tx, st.row, user); err != nil {
			return err
		} else if pending {
			return fmt.Errorf("%w: %s", ErrSeatRequestPending, user)
		}
		_, err := st.placeAt(user, index)
		return err
	})
}

// TakeSeatResult is what TakeSeat did: Seated with the seat taken, or (in an ApplyToTake
// room, for a user below room admin) Request, the application now pending.
type TakeSeatResult struct {
	Seated  bool
	Index   int
	Request SeatRequest
}

// TakeSeat seats the acting user (takeSeat) on seat index, or on the first free seat for
// index -1. In an ApplyToTake room an ordinary member applies instead: the application is
// pushed to the owner and room admins (SeatRequested) and ends when one of them answers,
// when the user cancels it or leaves the room, or after timeout (0: never). The user must be
// in the room, on no seat and not applying already; the seat must be free when asked for.
func (s *Service) TakeSeat(ctx context.Context, a Actor, roomID string, index int, timeout time.Duration) (TakeSeatResult, error) {
	if timeout < 0 {
		return TakeSeatResult{}, errcode.Invalid("timeout", "is negative")
	}
	var res TakeSeatResult
	err := s.seatTx(ctx, a, roomID, func(tx store.Tx, st *seatState) error {
		if err := st.enabled(); err != nil {
			return err
		}
		if index != -1 {
			if err := st.checkIndex("seatIndex", index); err != nil {
				return err
			}
		}
		if err := requireSeatMember(ctx, tx, st.row, a.Operator); err != nil {
			return err
		}
		if i := st.seatOf(a.Operator); i >= 0 {
			return fmt.Errorf("%w: %s is on seat %d", ErrAlreadyOnSeat, a.Operator, i)
		}
		if _, pending, err := pendingRequestOf(ctx, tx, st.row, a.Operator); err != nil {
			return err
		} else if pending {
			return fmt.Errorf("%w: %s", ErrSeatRequestPending, a.Operator)
		}
		role, err := roleOf(ctx, tx, a, st.row)
		if err != nil {
			return err
		}
		if st.settings.TakeSeatMode != ApplyToTake || role >= RoleAdmin {
			i, err := st.placeAt(a.Operator, index)
			res = TakeSeatResult{Seated: true, Index: i}
			return err
		}
		// Fail early when the application could not be granted now.
		probe := *st
		probe.seats = slices.Clone(st.seats)
		if _, err := probe.placeAt(a.Operator, index); err != nil {
			return err
		}
		now := s.now()
		req := store.SeatRequest{App: a.App, RoomID: roomID, ID: seatRequestID(now, a.Operator), UserID: a.Operator, Index: index, CreatedAt: now}
		if timeout > 0 {
			req.ExpiresAt = now.Add(timeout)
		}
		if err := tx.SeatRequestPut(ctx, req); err != nil {
			return err
		}
		admins, err := seatManagers(ctx, tx, st.row)
		if err != nil {
			return err
		}
		res = TakeSeatResult{Request: fromSeatRequest(req)}
		return s.publish(ctx, tx, a, SeatRequested{EventHead: s.head(a, roomID), Request: res.Request, Managers: admins})
	})
	return res, err
}

// seatManagers returns who answers seat applications: the owner and the room admins.
func seatManagers(ctx context.Context, tx store.Reader, row store.Room) ([]string, error) {
	admins, err := tx.AdminList(ctx, row.App, row.RoomID)
	if err != nil {
		return nil, err
	}
	return append([]string{row.Owner}, admins...), nil
}

func fromSeatRequest(r store.SeatRequest) SeatRequest {
	return SeatRequest{ID: r.ID, RoomID: r.RoomID, UserID: r.UserID, Index: r.Index, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt}
}

// seatRequestID names an application: "<Unix ms of its creation>-<applicant>". It is unique
// in its room, since a user has at most one pending application there (the same user
// applying again in the same millisecond after its first one ended gets the same id, which
// then names the one pending application). Answering still needs the owner's or a room
// admin's role, cancelling the applicant's own identity, so a guessable id gives nothing away.
func seatRequestID(now time.Time, user string) string {
	return strconv.FormatInt(now.UnixMilli(), 10) + "-" + user
}

// SeatRequests returns a room's pending applications, oldest first
// (getSeatApplicationList); the owner and room admins read them.
func (s *Service) SeatRequests(ctx context.Context, a Actor, roomID string) ([]SeatRequest, error) {
	if err := ValidateRoomID(roomID); err != nil {
		return nil, err
	}
	row, err := requireRoom(ctx, s.store, a.App, roomID)
	if err != nil {
		return nil, err
	}
	if err := authorize(ctx, s.store, a, row, RoleAdmin); err != nil {
		return nil, err
	}
	reqs, err := s.store.SeatRequestList(ctx, a.App, roomID)
	if err != nil {
		return nil, err
	}
	out := make([]SeatRequest, len(reqs))
	for i, r := range reqs {
		out[i] = fromSeatRequest(r)
	}
	return out, nil
}

// requireRequest returns the pending application id of the room, or an invalid parameter.
func requireRequest(ctx context.Context, tx store.Reader, row store.Room, id string) (store.SeatRequest, error) {
	if id == "" {
		return store.SeatRequest{}, errcode.Invalid("requestId", "is required")
	}
	r, err := tx.SeatRequestGet(ctx, row.App, row.RoomID, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.SeatRequest{}, errcode.Invalid("requestId", "%q is not a pending seat application of room %s", id, row.RoomID)
	}
	return r, err
}

// RespondSeatRequest answers an application (responseRemoteRequest): agreeing seats the
// applicant (on the seat it asked for, or the first free one) and fails, leaving the
// application pending, when that seat cannot be taken now; refusing ends it. The owner and
// room admins (and App admins) answer. The applicant is told the outcome (SeatRequestEnded).
func (s *Service) RespondSeatRequest(ctx context.Context, a Actor, roomID, requestID string, agree bool) error {
	return s.seatTx(ctx, a, roomID, func(tx store.Tx, st *seatState) error {
		if err := authorize(ctx, tx, a, st.row, RoleAdmin); err != nil {
			return err
		}
		req, err := requireRequest(ctx, tx, st.row, requestID)
		if err != nil {
			return err
		}
		outcome := SeatRequestRejected
		if agree {
			outcome = SeatRequestAccepted
			if err := st.enabled(); err != nil {
				return err
			}
			if err := requireSeatMember(ctx, tx, st.row, req.UserID); err != nil {
				return err
			}
			if i := st.seatOf(req.UserID); i >= 0 {
				return fmt.Errorf("%w: %s is on seat %d", ErrAlreadyOnSeat, req.UserID, i)
			}
			if _, err := st.placeAt(req.UserID, req.Index); err != nil {
				return err
			}
		}
		return s.endRequest(ctx, tx, a, st.row, req, outcome)
	})
}

// CancelSeatRequest withdraws the acting user's own application (cancelRequest); the owner
// and room admins are told (SeatRequestEnded, cancelled).
func (s *Service) CancelSeatRequest(ctx context.Context, a Actor, roomID, requestID string) error {
	return s.seatTx(ctx, a, roomID, func(tx store.Tx, st *seatState) error {
		req, err := requireRequest(ctx, tx, st.row, requestID)
		if err != nil {
			return err
		}
		if req.UserID != a.Operator {
			return fmt.Errorf("%w: application %s is %s's, not %s's", ErrNoPermission, requestID, req.UserID, a.Operator)
		}
		return s.endRequest(ctx, tx, a, st.row, req, SeatRequestCancelled)
	})
}

// endRequest deletes an application and publishes how it ended.
func (s *Service) endRequest(ctx context.Context, tx store.Tx, a Actor, row store.Room, req store.SeatRequest, outcome string) error {
	if _, err := tx.SeatRequestDelete(ctx, req.App, req.RoomID, req.ID); err != nil {
		return err
	}
	managers, err := seatManagers(ctx, tx, row)
	if err != nil {
		return err
	}
	return s.publish(ctx, tx, a, SeatRequestEnded{EventHead: s.head(a, row.RoomID), Request: fromSeatRequest(req), Outcome: outcome, Managers: managers})
}

// expireSeatRequests ends the applications whose timeout passed (SeatRequestEnded,
// timeout); RunDue calls it.
func (s *Service) expireSeatRequests(ctx context.Context, now time.Time) error {
	due, err := s.store.SeatRequestListDue(ctx, now, 500)
	if err != nil {
		return err
	}
	for _, req := range due {
		a := Actor{App: req.App, Operator: SystemOperator, Platform: webhook.PlatformUnknown, AppAdmin: true}
		err := s.store.Tx(ctx, func(tx store.Tx) error {
			row, err := tx.RoomGet(ctx, req.App, req.RoomID)
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			if _, err := tx.SeatRequestGet(ctx, req.App, req.RoomID, req.ID); errors.Is(err, store.ErrNotFound) {
				return nil // answered or cancelled meanwhile
			} else if err != nil {
				return err
			}
			return s.endRequest(ctx, tx, a, row, req, SeatRequestTimeout)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// LeaveSeat takes the acting user off its seat (leaveSeat); a user on no seat is left as it
// is. The owner of a KeepOwnerOnSeat room stays (ErrOwnerKeptOnSeat).
func (s *Service) LeaveSeat(ctx context.Context, a Actor, roomID string) error {
	return s.seatTx(ctx, a, roomID, func(tx store.Tx, st *seatState) error {
		if err := st.enabled(); err != nil {
			return err
		}
		if st.keepsOwner() && a.Operator == st.row.Owner && st.seatOf(a.Operator) >= 0 {
			return ErrOwnerKeptOnSeat
		}
		st.vacate(a.Operator)
		return nil
	})
}

// MoveToSeat moves the acting user, who must be on a seat, to the free seat index
// (moveToSeat).
func (s *Service) MoveToSeat(ctx context.Context, a Actor, roomID string, index int) error {
	return s.seatTx(ctx, a, roomID, func(tx store.Tx, st *seatState) error {
		return st.move(a.Operator, "targetSeatIndex", index, MoveCancel)
	})
}

// SwitchSeat moves a user who is on a seat to the empty seat toIndex (switch_seat). The
// owner and room admins (and App admins) move users.
func (s *Service) SwitchSeat(ctx context.Context, a Actor, roomID, user string, toIndex int) error {
	return s.MoveUserToSeat(ctx, a, roomID, user, toIndex, MoveCancel)
}

// MoveUserToSeat moves a user who is on a seat to seat index (move_user_to_seat); when that
// seat is occupied, policy says what happens: MoveCancel refuses (ErrSeatOccupied),
// MoveForce kicks the occupant off its seat, MoveSwap gives the occupant the user's seat.
// The owner and room admins (and App admins) move users.
func (s *Service) MoveUserToSeat(ctx context.Context, a Actor, roomID, user string, index, policy int) error {
	if user == "" {
		return errcode.Invalid("Member_Account", "is required")
	}
	if policy < MoveCancel || policy > MoveSwap {
		return errcode.Invalid("Policy", "must be 0 (cancel), 1 (force) or 2 (swap), not %d", policy)
	}
	return s.seatTx(ctx, a, roomID, func(tx store.Tx, st *seatState) error {
		if err := authorize(ctx, tx, a, st.row, RoleAdmin); err != nil {
			return err
		}
		return st.move(user, "SeatIndex", index, policy)
	})
}

// move moves user from its seat to seat index under policy.
func (st *seatState) move(user, field string, index, policy int) error {
	if err := st.enabled(); err != nil {
		return err
	}
	if err := st.checkIndex(field, index); err != nil {
		return err
	}
	from := st.seatOf(user)
	if from < 0 {
		return errcode.Invalid("", "%s is not on a seat of room %s", user, st.row.RoomID)
	}
	if from == index {
		return nil
	}
	if st.keepsOwner() && user == st.row.Owner {
		return ErrOwnerKeptOnSeat
	}
	occupant := st.seats[index].UserID
	if occupant == "" || policy == MoveCancel {
		if err := st.takeable(user, index); err != nil {
			return err
		}
		st.seats[from].UserID, st.seats[index].UserID = "", user
		return nil
	}
	if err := st.takeable("", index); err != nil && !errors.Is(err, ErrSeatOccupied) {
		return err // locked, or the owner's seat 0
	}
	if policy == MoveForce {
		st.kick(index, "")
		st.seats[from].UserID, st.seats[index].UserID = "", user
		return nil
	}
	st.seats[from].UserID, st.seats[index].UserID = occupant, user
	return nil
}

// KickOffSeat takes a user off its seat (kick_user_off_seat, kickUserOffSeatByAdmin) and
// tells it data (SeatKicked). A user on no seat is left as it is. The owner and room admins
// (and App admins) kick; a room admin kicks only ordinary members (and itself), and only an
// App admin or the owner itself takes the owner off a seat — never in a KeepOwnerOnSeat room.
func (s *Service) KickOffSeat(ctx context.Context, a Actor, roomID, user, data string) error {
	if user == "" {
		return errcode.Invalid("Member_Account", "is required")
	}
	return s.seatTx(ctx, a, roomID, func(tx store.Tx, st *seatState) error {
		role, err := roleOf(ctx, tx, a, st.row)
		if err != nil {
			return err
		}
		if role < RoleAdmin {
			return fmt.Errorf("%w: %s is %s in room %s, this needs %s", ErrNoPermission, a.Operator, role, st.row.RoomID, RoleAdmin)
		}
		if err := st.enabled(); err != nil {
			return err
		}
		if user != a.Operator && role != RoleAppAdmin {
			target, err := userRole(ctx, tx, st.row, user)
			if err != nil {
				return err
			}
			if target >= role {
				return fmt.Errorf("%w: %s (%s) cannot act on %s (%s)", ErrNoPermission, a.Operator, role, user, target)
			}
		}
		i := st.seatOf(user)
		if i < 0 {
			return nil
		}
		if st.keepsOwner() && user == st.row.Owner {
			return ErrOwnerKeptOnSeat
		}
		st.kick(i, data)
		return nil
	})
}

// LockSeat changes the locks of seat index (lock_seat, lockSeatByAdmin); a nil lock stays
// as it is. Locking the seat (Taken) kicks its occupant off first. In a KeepOwnerOnSeat
// room seat 0 cannot be locked (ErrOwnerKeptOnSeat), though its audio and video can. The
// owner and room admins (and App admins) lock seats.
func (s *Service) LockSeat(ctx context.Context, a Actor, roomID string, index int, locks SeatLocks) error {
	return s.seatTx(ctx, a, roomID, func(tx store.Tx, st *seatState) error {
		if err := authorize(ctx, tx, a, st.row, RoleAdmin); err != nil {
			return err
		}
		if err := st.enabled(); err != nil {
			return err
		}
		if err := st.checkIndex("Index", index); err != nil {
			return err
		}
		seat := &st.seats[index]
		if locks.Taken != nil && *locks.Taken {
			if st.keepsOwner() && index == 0 {
				return ErrOwnerKeptOnSeat
			}
			st.kick(index, "")
		}
		if locks.Taken != nil {
			seat.Locked = *locks.Taken
		}
		if locks.Video != nil {
			seat.VideoLocked = *locks.Video
		}
		if locks.Audio != nil {
			seat.AudioLocked = *locks.Audio
		}
		return nil
	})
}

// leaveSeats is called in the transaction that takes users out of a room (exit, lost
// heartbeat, kick, ban, robots deleted): it frees their seats and ends their pending
// applications (cancelled), publishing the changes.
func (s *Service) leaveSeats(ctx context.Context, tx store.Tx, a Actor, row store.Room, users []string) error {
	st, err := s.loadSeats(ctx, tx, row)
	if err != nil {
		return err
	}
	reqs, err := tx.SeatRequestList(ctx, row.App, row.RoomID)
	if err != nil {
		return err
	}
	for _, u := range users {
		st.vacate(u)
		for _, r := range reqs {
			if r.UserID == u {
				if err := s.endRequest(ctx, tx, a, row, r, SeatRequestCancelled); err != nil {
					return err
				}
			}
		}
	}
	return s.saveSeats(ctx, tx, a, st)
}

// seatOwner puts the owner of a KeepOwnerOnSeat room on seat 0 when it comes into the room;
// becomeMember calls it.
func (s *Service) seatOwner(ctx context.Context, tx store.Tx, a Actor, row store.Room, user string) error {
	if user != row.Owner {
		return nil
	}
	st, err := s.loadSeats(ctx, tx, row)
	if err != nil || !st.keepsOwner() || st.seatOf(user) >= 0 {
		return err
	}
	st.kick(0, "") // nobody else may sit there; kept for safety
	st.seats[0].Locked = false
	st.seats[0].UserID = user
	return s.saveSeats(ctx, tx, a, st)
}

// ownerSeatChanged rearranges the seats of a KeepOwnerOnSeat room after its owner changed
// from oldOwner to oc.Room.Owner: the new owner, if it is in the room, takes seat 0 and the
// former owner takes the new owner's former seat (or leaves the seats when the new owner
// had none); a new owner who is not in the room leaves seat 0 empty, kept for it.
//
// oc is what ChangeOwner read in tx (store.RoomOwnerChange) before it changed the owner,
// with oc.Room.Owner set to the new owner: the seats, whether the new owner is a member and
// whether it has a pending application all come from it, so this reads nothing more
// unless that application must be ended.
func (s *Service) ownerSeatChanged(ctx context.Context, tx store.Tx, a Actor, oldOwner string, oc *store.OwnerChange) error {
	row := oc.Room
	if !mayKeepOwnerSeat(row) {
		return nil
	}
	settings, err := decodeSeatSettings(row.Info)
	if err != nil {
		return fmt.Errorf("decode room %s: %w", row.RoomID, err)
	}
	st := newSeatState(row, settings, oc.Seats)
	if !st.keepsOwner() {
		return nil
	}
	newOwner := row.Owner
	from := st.seatOf(newOwner)
	if st.seats[0].UserID == oldOwner {
		st.seats[0].UserID = ""
		if from >= 0 {
			st.seats[from].UserID = oldOwner
		}
	} else if from >= 0 {
		st.seats[from].UserID = ""
	}
	if oc.Member {
		if occupant := st.seats[0].UserID; occupant != "" && occupant != newOwner {
			st.kick(0, "")
		}
		st.seats[0].UserID = newOwner
		if oc.SeatRequest {
			if r, pending, err := pendingRequestOf(ctx, tx, row, newOwner); err != nil {
				return err
			} else if pending {
				if err := s.endRequest(ctx, tx, a, row, r, SeatRequestCancelled); err != nil {
					return err
				}
			}
		}
	}
	return s.saveSeats(ctx, tx, a, st)
}
