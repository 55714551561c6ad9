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
	// ErrMetadataTooManyKeys: a room's metadata would hold more than 10 keys (100500).
	ErrMetadataTooManyKeys = errors.New("too many metadata keys")
	// ErrMetadataValueTooLarge: a metadata value is larger than 2 KB (100501).
	ErrMetadataValueTooLarge = errors.New("metadata value too large")
	// ErrMetadataTooLarge: a room's metadata would be larger than 16 KB in total (100502).
	ErrMetadataTooLarge = errors.New("metadata too large")
	// ErrRoomQuotaExceeded: the app already has as many rooms as its room_quota allows
	// (100007, the code of the package limits).
	ErrRoomQuotaExceeded = errors.New("room quota reached")
)
