package store

import (
	"context"
	"time"
)

// BattleReader holds the read queries of battles (PK) between rooms and of the rooms' mix
// stream configuration. Battles outlive their rooms: a battle's rows stay when a room in it
// is deleted, so get_battle_info still answers for it; a room's mix stream configuration is
// deleted with the room.
type BattleReader interface {
	// BattleGet returns one battle; ErrNotFound when there is none.
	BattleGet(ctx context.Context, app uint64, battleID string) (Battle, error)
	// BattleRoomList returns the rooms of a battle in their position order (the inviting
	// room first); nil when the battle has none.
	BattleRoomList(ctx context.Context, app uint64, battleID string) ([]BattleRoom, error)
	// BattleOfRoom returns the battle that has not ended in which the room takes part (its
	// BattleRoom state is BattleRoomJoined); ErrNotFound when there is none.
	BattleOfRoom(ctx context.Context, app uint64, roomID string) (Battle, error)
	// BattleListOfRoom returns the battles that have not ended in which the room is invited
	// (has not answered) or takes part (joined), oldest first (by CreatedAt, then id): what
	// the room still has a say in, e.g. when it is destroyed.
	BattleListOfRoom(ctx context.Context, app uint64, roomID string) ([]Battle, error)
	// BattleListDue returns up to limit battles, of every app, that have not ended and whose
	// DueAt is set and at or before t, earliest first.
	BattleListDue(ctx context.Context, t time.Time, limit int) ([]Battle, error)
	// MixStreamGet returns a room's mix stream configuration; ErrNotFound when it has none.
	MixStreamGet(ctx context.Context, app uint64, roomID string) (MixStream, error)
}

// BattleWriter holds the writes of battles and mix stream configurations.
type BattleWriter interface {
	// BattleInsert adds a battle and its rooms; ErrConflict when the battle id is taken.
	BattleInsert(ctx context.Context, b Battle, rooms []BattleRoom) error
	// BattleUpdate replaces the status, times and due time of an existing battle;
	// ErrNotFound when there is none.
	BattleUpdate(ctx context.Context, b Battle) error
	// BattleRoomUpdate replaces the state and score of one room of a battle; ErrNotFound
	// when the room is not in the battle.
	BattleRoomUpdate(ctx context.Context, r BattleRoom) error
	// MixStreamPut sets a room's mix stream configuration, replacing an earlier one.
	MixStreamPut(ctx context.Context, m MixStream) error
}

// BattleStatus is where a battle is in its life: requested (waiting for the invited rooms
// to answer), running, or ended. The values are those get_battle_info answers as Status.
type BattleStatus int

// The battle statuses.
const (
	BattleRequested BattleStatus = 1
	BattleRunning   BattleStatus = 2
	BattleEnded     BattleStatus = 3
)

// Battle is one battle (PK) between rooms. DueAt is its one timer: while requested, when
// the invited rooms' time to answer ends; while running, when the battle ends. It is zero
// once the battle ended.
type Battle struct {
	App           uint64
	ID            string
	FromRoomID    string
	Operator      string
	Duration      time.Duration
	Timeout       time.Duration
	NeedResponse  bool
	ExtensionInfo string
	Status        BattleStatus
	// EndType is the OpType of Live.CallbackAfterEndBattle once the battle ended.
	EndType   int
	CreatedAt time.Time
	StartedAt time.Time
	EndedAt   time.Time
	DueAt     time.Time
}

// BattleRoomState is how a room stands in a battle.
type BattleRoomState string

// The states of a room in a battle: an invited room answers by joining or rejecting, or
// lets its time run out; a room that joined may exit before the battle ends.
const (
	BattleRoomInvited  BattleRoomState = "invited"
	BattleRoomJoined   BattleRoomState = "joined"
	BattleRoomRejected BattleRoomState = "rejected"
	BattleRoomTimedOut BattleRoomState = "timeout"
	BattleRoomExited   BattleRoomState = "exited"
)

// BattleRoom is one room of a battle. Owner is the room's owner when the battle was
// created (Owner_Account in the battle's callbacks and get_battle_info). Position orders
// the rooms: 0 is the inviting room, then the invited rooms in request order.
type BattleRoom struct {
	App      uint64
	BattleID string
	RoomID   string
	Owner    string
	Position int
	State    BattleRoomState
	Score    int64
}

// MixStream is a room's mix stream (cloud MCU) configuration as set_mix_stream stored it:
// Config is its JSON, owned by the room package. Resumes counts resume_mcu_task calls.
type MixStream struct {
	App       uint64
	RoomID    string
	Config    []byte
	UpdatedAt time.Time
	Resumes   int64
	ResumedAt time.Time
}
