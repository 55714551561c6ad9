package room

import "errors"

// Sentinel errors of the room domain; package api/rest maps each to its Tencent code.
var (
	// ErrInvalid marks a request that breaks a documented field rule (100002). It is wrapped
	// with the detail: fmt.Errorf("%w: RoomId is longer than 48 bytes", ErrInvalid).
	ErrInvalid = errors.New("invalid parameter")
	// ErrRoomNotFound: the room does not exist or has been dissolved (100004).
	ErrRoomNotFound = errors.New("room does not exist")
	// ErrRoomExists: the room id is taken (100003).
	ErrRoomExists = errors.New("room id already exists")
	// ErrRoomExistsSameOwner: the room exists and already belongs to the requested owner (100010).
	ErrRoomExistsSameOwner = errors.New("room already exists and belongs to the requested owner")
	// ErrAccountNotImported: a user named in the request is not an imported account (70107).
	ErrAccountNotImported = errors.New("account is not imported")
)
