package room

// The room events of seats (seats.go). Like every event they are published after the
// transaction that caused them commits, in commit order.

// SeatsChanged: a room's seats changed (taken, left, moved, kicked, locked or unlocked).
// Seats is the full list after the change; Seated are the seats of users who were on no seat
// before it, Left the former seats of users who are on no seat after it.
type SeatsChanged struct {
	EventHead
	Seats  []Seat
	Seated []Seat
	Left   []Seat
}

// SeatKicked: UserID was taken off seat Index by the operator (a kick, a lock of its seat or
// a forced move); Data is what the operator forwards to it (kick_user_off_seat's Data).
type SeatKicked struct {
	EventHead
	UserID string
	Index  int
	Data   string
}

// SeatRequested: a user applied for a seat; Managers (the owner and the room admins) are
// the users who may answer.
type SeatRequested struct {
	EventHead
	Request  SeatRequest
	Managers []string
}

// SeatRequestEnded: an application ended with Outcome (SeatRequestAccepted,
// SeatRequestRejected, SeatRequestCancelled or SeatRequestTimeout). Managers are the
// owner and the room admins.
type SeatRequestEnded struct {
	EventHead
	Request  SeatRequest
	Outcome  string
	Managers []string
}
