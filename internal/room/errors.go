package room

import "github.com/roomd/roomd/internal/errcode"

// Sentinel errors of the room domain, each with the Tencent code it answers. They are
// wrapped with the detail: fmt.Errorf("%w: %s", ErrRoomNotFound, id). A request that breaks
// a field rule is an *errcode.InvalidError (errcode.Invalid) instead.
var (
	// ErrRoomNotFound: the room does not exist or has been dissolved (100004).
	ErrRoomNotFound = errcode.New(errcode.RoomNotFound, "room does not exist")
	// ErrRoomExists: the room id is taken (100003).
	ErrRoomExists = errcode.New(errcode.RoomExists, "room id already exists")
	// ErrRoomExistsSameOwner: the room exists and already belongs to the requested owner (100010).
	ErrRoomExistsSameOwner = errcode.New(errcode.RoomExistsSameUser, "room already exists and belongs to the requested owner")
	// ErrNotMember: the user named is not a member of the room (100005), e.g. the new owner
	// an App user transfers a room to.
	ErrNotMember = errcode.New(errcode.NotMember, "the user is not a member of the room")
	// ErrAccountNotImported: a user named in the request is not an imported account (70107).
	ErrAccountNotImported = errcode.New(errcode.AccountNotImported, "account is not imported")
	// ErrMetadataTooManyKeys: a room's metadata would hold more than 10 keys (100500).
	ErrMetadataTooManyKeys = errcode.New(errcode.MetadataTooMany, "too many metadata keys")
	// ErrMetadataValueTooLarge: a metadata value is larger than 2 KB (100501).
	ErrMetadataValueTooLarge = errcode.New(errcode.MetadataValueLarge, "metadata value too large")
	// ErrMetadataTooLarge: a room's metadata would be larger than 16 KB in total (100502).
	ErrMetadataTooLarge = errcode.New(errcode.MetadataTooLarge, "metadata too large")
	// ErrRoomQuotaExceeded: the app already has as many rooms as its room_quota allows
	// (100007, the code of the package limits).
	ErrRoomQuotaExceeded = errcode.New(errcode.RoomQuota, "room quota reached")

	// ErrBanned: the user is banned from the room and may neither enter it nor send to it
	// (100006, the general no-permission code). Every way into a room checks it with
	// checkNotBanned.
	ErrBanned = errcode.New(errcode.NoPermission, "user is banned from the room")
	// ErrSenderMuted: the sender is muted in the room (10017, IM's "muted" code).
	ErrSenderMuted = errcode.New(errcode.SenderMuted, "the sender is muted in this room")
	// ErrMessagesDisabled: the room's IsMessageDisabled is on and the sender is neither
	// the owner, a room admin nor an App admin (10017, as IM answers in a muted group).
	ErrMessagesDisabled = errcode.New(errcode.SenderMuted, "chat is disabled in this room")
	// ErrMessageRejected: the App backend refused the message in Group.CallbackBeforeSendMsg
	// (ErrorCode 1 or another code outside the documented ones), or gave no valid reply while
	// the app's policy is fail-closed (10016). A refusal with a code in [10100, 10200] is an
	// *errcode.Error with that code instead.
	ErrMessageRejected = errcode.New(errcode.MsgRejected, "message refused by Group.CallbackBeforeSendMsg")
)
