package rest

import (
	"errors"

	"github.com/roomd/roomd/internal/account"
	"github.com/roomd/roomd/internal/auth/usersig"
	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/webhook"
	"github.com/roomd/roomd/internal/webhook/dispatcher"
)

// Tencent error codes used by the REST layer (spec error-codes.md).
const (
	CodeOK                 = 0
	CodeBadRequest         = 60002
	CodeBadJSON            = 60003
	CodeBadAccount         = 60004
	CodeBadSDKAppID        = 60006
	CodeAPIFrequency       = 60007
	CodeUnknownCommand     = 60009
	CodeNotAdmin           = 60010
	CodeSDKAppIDMissing    = 60012
	CodeAccountNotString   = 60015
	CodeSigExpired         = 70001
	CodeSigEmpty           = 70002
	CodeSigMalformed       = 70003
	CodeSigMismatch        = 70009
	CodeSigIdentifier      = 70013
	CodeSigSDKAppID        = 70014
	CodeSDKAppIDNotFound   = 70020
	CodeAccountNotImported = 70107
	CodeAccountInvalid     = 70402
	CodeAccountInternal    = 70500
	CodeProfileTooLong     = 40601
	CodeLiveInternal       = 100001
	CodeLiveInvalid        = 100002
	CodeRoomExists         = 100003
	CodeRoomNotFound       = 100004
	CodeRoomExistsSameUser = 100010
	CodeMsgRejected        = 10016 // the Before-callback refused a room message
	CodeSenderMuted        = 10017 // the sender is muted, or the room's chat is disabled
	CodeNoPermission       = 100006
	CodeCallbackExists     = 100300
	CodeCallbackNotFound   = 100301
	CodeMetadataTooMany    = 100500
	CodeMetadataValueLarge = 100501
	CodeMetadataTooLarge   = 100502
)

// Error is a failure with its Tencent code and the text for ErrorInfo.
type Error struct {
	Code int
	Info string
}

func (e *Error) Error() string { return e.Info }

func errorf(code int, info string) *Error { return &Error{Code: code, Info: info} }

// family says which code space an API answers invalid parameters and internal errors in.
type family struct {
	invalid, internal int
}

var (
	liveFamily    = family{invalid: CodeLiveInvalid, internal: CodeLiveInternal}
	accountFamily = family{invalid: CodeAccountInvalid, internal: CodeAccountInternal}
)

// codes maps the domain's sentinel errors to Tencent codes; it is the one place where that
// mapping lives. Invalid-parameter sentinels take the API family's code.
var codes = []struct {
	err  error
	code int
}{
	{usersig.ErrEmpty, CodeSigEmpty},
	{usersig.ErrMalformed, CodeSigMalformed},
	{usersig.ErrAppIDMismatch, CodeSigSDKAppID},
	{usersig.ErrIdentifierMismatch, CodeSigIdentifier},
	{usersig.ErrExpired, CodeSigExpired},
	{usersig.ErrSignatureMismatch, CodeSigMismatch},
	{usersig.ErrUserBufMismatch, CodeSigMismatch},
	{room.ErrRoomNotFound, CodeRoomNotFound},
	{room.ErrRoomExists, CodeRoomExists},
	{room.ErrRoomExistsSameOwner, CodeRoomExistsSameUser},
	{room.ErrAccountNotImported, CodeAccountNotImported},
	{room.ErrMetadataTooManyKeys, CodeMetadataTooMany},
	{room.ErrMetadataValueTooLarge, CodeMetadataValueLarge},
	{room.ErrMetadataTooLarge, CodeMetadataTooLarge},
	{room.ErrRoomQuotaExceeded, CodeRoomQuota},
	{account.ErrProfileTooLong, CodeProfileTooLong},
	{webhook.ErrConfigExists, CodeCallbackExists},
	{room.ErrBanned, CodeNoPermission},
	{room.ErrSenderMuted, CodeSenderMuted},
	{room.ErrMessagesDisabled, CodeSenderMuted},
	{room.ErrMessageRejected, CodeMsgRejected},
	{webhook.ErrConfigNotFound, CodeCallbackNotFound},
}

var invalidSentinels = []error{room.ErrInvalid, account.ErrInvalid, webhook.ErrInvalid,
	dispatcher.ErrEventNotFound, dispatcher.ErrEventUndelivered, dispatcher.ErrEventNotResendable}

// classify returns the Tencent code and ErrorInfo for err, and whether err is unexpected
// (to be logged in full and hidden from the caller).
func classify(err error, f family) (code int, info string, internal bool) {
	var e *Error
	if errors.As(err, &e) {
		if e.Code == 0 {
			return f.invalid, e.Info, false
		}
		return e.Code, e.Info, false
	}
	// A Before-callback's own code in [10100, 10200] goes to the caller as it is.
	var cb *room.CallbackCodeError
	if errors.As(err, &cb) {
		return cb.Code, cb.Info, false
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code, err.Error(), false
		}
	}
	for _, s := range invalidSentinels {
		if errors.Is(err, s) {
			return f.invalid, err.Error(), false
		}
	}
	return f.internal, "internal error, see the server log under this RequestId", true
}
