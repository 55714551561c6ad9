// Package errcode holds Tencent's error codes — the one table of every code roomd answers —
// and the error types that carry them from the domain to both of roomd's doors (the REST API
// and the client API).
//
// A domain package declares its sentinel errors with the code they answer:
//
//	var ErrRoomNotFound = errcode.New(errcode.RoomNotFound, "room does not exist")
//
// and wraps them with detail as usual (fmt.Errorf("%w: %s", ErrRoomNotFound, id)). A request
// that breaks a documented field rule is an *InvalidError naming its field; which code it
// answers (100002 for Live APIs, 70402 for the account APIs) depends on the API's Family.
// Classify turns any error into the code and text a caller sees.
package errcode

import (
	"errors"
	"fmt"
)

// Tencent's error codes, the one table roomd uses. Codes are Tencent's exactly: the REST
// overview (https://www.tencentcloud.com/document/product/647/63398), the error section of each API's page,
// and Chat's account pages for the 70xxx codes.
const (
	OK = 0

	// Transport and authentication (REST query string, UserSig).
	BadRequest         = 60002 // wrong method, body too large, malformed request
	BadJSON            = 60003 // the body is not JSON
	BadAccount         = 60004 // identifier missing or invalid
	BadSDKAppID        = 60006 // sdkappid is not a number
	APIFrequency       = 60007 // over the API's frequency limit
	UnknownCommand     = 60009 // no such service/command
	NotAdmin           = 60010 // the caller is not an App admin
	SDKAppIDMissing    = 60012 // sdkappid missing
	AccountNotString   = 60015 // an account field is not a string
	SigExpired         = 70001
	SigEmpty           = 70002
	SigMalformed       = 70003
	SigMismatch        = 70009
	SigIdentifier      = 70013
	SigSDKAppID        = 70014
	SDKAppIDNotFound   = 70020
	AccountNotImported = 70107 // a user named in the request is not an imported account
	AccountInvalid     = 70402 // the account APIs' invalid parameter
	AccountInternal    = 70500 // the account APIs' internal error
	ProfileTooLong     = 40601

	// Room messages.
	MsgRejected = 10016 // the Before-callback refused a room message
	SenderMuted = 10017 // the sender is muted, or the room's chat is disabled

	// IM groups (group_open_http_svc): a live room is the IM group of the same id.
	GroupInternal     = 10002 // the group APIs' internal error
	GroupInvalid      = 10004 // the group APIs' invalid parameter
	GroupNoPermission = 10007 // the sender may not send to the group (e.g. banned)
	GroupNotFound     = 10010 // the group does not exist or was dissolved
	MsgTooLong        = 80002 // a message body longer than 12 KB

	// IM profiles (profile/portrait_get, portrait_set).
	ProfileInvalid         = 40001 // the profile APIs' invalid parameter
	ProfileAccountNotFound = 40003 // the account named is not imported
	ProfileInternal        = 40006 // the profile APIs' internal error

	// IM follows (follow/follow_add, follow_delete, follow_check, follow_get).
	RelationInvalid         = 30001 // the relationship APIs' invalid parameter
	RelationAccountNotFound = 30003 // the account named is not imported
	RelationInternal        = 30006 // the relationship APIs' internal error
	FollowLimit             = 30010 // the follower already follows the most users allowed

	// Live rooms.
	LiveInternal       = 100001 // the Live APIs' internal error
	LiveInvalid        = 100002 // the Live APIs' invalid parameter
	RoomExists         = 100003
	RoomNotFound       = 100004
	NotMember          = 100005 // the user is not a member of the room
	NoPermission       = 100006 // not allowed, e.g. a banned user entering
	RoomQuota          = 100007 // the app's room quota is reached
	RoomExistsSameUser = 100010 // the room exists and already belongs to the requested owner
	CreateTooFrequent  = 100012 // the same RoomId created twice within a second
	SeatLocked         = 100200 // the seat is locked (or kept for the owner): try another seat
	SeatRequestPending = 100202 // the user is already applying for a seat
	AlreadyOnSeat      = 100203 // the user is already on a seat
	SeatsFull          = 100205 // every seat is taken
	SeatOccupied       = 100210 // the target seat is taken
	SeatsDisabled      = 100211 // the room has no seats (IsSeatEnabled false)
	CallbackExists     = 100300
	CallbackNotFound   = 100301
	MixRateLimited     = 100422 // the mix stream APIs' own frequency limit
	MetadataTooMany    = 100500
	MetadataValueLarge = 100501
	MetadataTooLarge   = 100502

	// Gifts.
	GiftConfigFrequency = 100012 // a gift configuration API called more often than its limit
	GiftNotFound        = 102002 // the gift ID does not exist
	GiftRejected        = 102004 // Live.CallbackBeforeSendGift refused the gift or failed
)

// Error is a failure that answers a fixed Tencent code. Sentinels are *Error values made
// with New and compared with errors.Is; Info is the text for ErrorInfo.
type Error struct {
	Code int
	Info string
}

// New returns an error that answers code with info as its text.
func New(code int, info string) *Error { return &Error{Code: code, Info: info} }

// Error returns the text a caller sees as ErrorInfo.
func (e *Error) Error() string { return e.Info }

// ErrInvalid is matched (errors.Is) by every *InvalidError, so code that only needs to know
// "this was a bad request" does not care which field it was.
var ErrInvalid = errors.New("invalid parameter")

// InvalidError is a request that breaks a documented rule of one field. It answers the API
// family's invalid-parameter code (100002 for Live APIs, 70402 for the account APIs).
type InvalidError struct {
	Field  string // the request field, as the API names it ("RoomId", "AccountList[2].UserID"); may be empty
	Reason string // what is wrong, e.g. "is longer than 48 bytes"
	// Bare leaves the "invalid parameter: " prefix out of the text. The REST transport's own
	// checks of a request's shape (and the delivery log) have always answered without it,
	// and golden files pin those texts.
	Bare bool
}

// Invalid returns an *InvalidError for field; the reason is formatted as fmt.Sprintf does.
// Its text is "invalid parameter: <field> <reason>", or "invalid parameter: <reason>" when
// field is empty.
func Invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// InvalidBare is Invalid without the "invalid parameter: " prefix in the text: "<field>
// <reason>", or the reason alone when field is empty.
func InvalidBare(field, format string, args ...any) error {
	return &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...), Bare: true}
}

// Error returns the text a caller sees as ErrorInfo.
func (e *InvalidError) Error() string {
	s := e.Reason
	if e.Field != "" {
		s = e.Field + " " + s
	}
	if e.Bare {
		return s
	}
	return "invalid parameter: " + s
}

// Is makes errors.Is(err, ErrInvalid) true for every *InvalidError.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// Family is the code space an API answers invalid parameters and internal errors in.
type Family struct {
	Invalid, Internal int
}

var (
	// Live is the family of the Live APIs (live_engine_http_srv, live_config, roomd_delivery)
	// and of the client API.
	Live = Family{Invalid: LiveInvalid, Internal: LiveInternal}
	// Account is the family of the IM account APIs (im_open_login_svc).
	Account = Family{Invalid: AccountInvalid, Internal: AccountInternal}
	// Group is the family of the IM group APIs (group_open_http_svc).
	Group = Family{Invalid: GroupInvalid, Internal: GroupInternal}
	// Profile is the family of the IM profile APIs (profile).
	Profile = Family{Invalid: ProfileInvalid, Internal: ProfileInternal}
	// Relation is the family of the IM follow APIs (follow).
	Relation = Family{Invalid: RelationInvalid, Internal: RelationInternal}
)

// InternalInfo is the only text a caller sees for an unexpected error; the full error is
// logged under the request's id.
const InternalInfo = "internal error, see the server log under this RequestId"

// Classify returns the Tencent code and text a caller gets for err in an API of family f,
// and whether err is unexpected (to be logged in full and hidden from the caller). It is the
// one place where errors become codes, for both doors.
func Classify(err error, f Family) (code int, info string, internal bool) {
	if err == nil {
		return OK, "", false
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code, err.Error(), false
	}
	if errors.Is(err, ErrInvalid) {
		return f.Invalid, err.Error(), false
	}
	return f.Internal, InternalInfo, true
}
