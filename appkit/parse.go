package appkit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// The callback command words, as sent in CallbackCommand
// (https://www.tencentcloud.com/document/product/647/64413).
const (
	CmdAfterCreateRoom                  = "Live.CallbackAfterCreateRoom"
	CmdAfterDestroyRoom                 = "Live.CallbackAfterDestroyRoom"
	CmdAfterUpdateRoomInfo              = "Live.CallbackAfterUpdateRoomInfo"
	CmdAfterSetMetadata                 = "Live.CallbackAfterSetMetadata"
	CmdAfterDelMetadata                 = "Live.CallbackAfterDelMetadata"
	CmdAfterCreateRoomReachingThreshold = "Live.CallbackAfterCreateRoomReachingThreshold"
	CmdAfterMemberStateChanged          = "Live.CallbackAfterMemberStateChanged"
	CmdAfterChangeOwner                 = "Live.CallbackAfterChangeOwner"
	CmdAfterModifyAdmin                 = "Live.CallbackAfterModifyAdmin"
	CmdAfterSeatInfoChanged             = "Mic.CallbackAfterSeatInfoChanged"
	CmdAfterCreateBattle                = "Live.CallbackAfterCreateBattle"
	CmdAfterStartBattle                 = "Live.CallbackAfterStartBattle"
	CmdAfterEndBattle                   = "Live.CallbackAfterEndBattle"
	CmdBeforeSendGift                   = "Live.CallbackBeforeSendGift"
	CmdBeforeSendMsg                    = "Group.CallbackBeforeSendMsg"
	CmdAfterSendMsg                     = "Group.CallbackAfterSendMsg"
	CmdAfterFollowAdd                   = "Follow.CallbackAfterFollowAdd"
	CmdAfterFollowDelete                = "Follow.CallbackAfterFollowDelete"
	CmdAfterCloudRecordingChanged       = "Live.CallbackAfterCloudRecordingChanged"
	// CmdAfterCloudRecordingChangedAlias is the command word of Tencent's English page for
	// the recording callback; it carries the same body.
	CmdAfterCloudRecordingChangedAlias = "Follow.CallbackAfterCloudRecordingChanged"
)

// newEvent returns a new body struct for command, or nil for a command the kit does not
// know.
func newEvent(command string) any {
	switch command {
	case CmdAfterCreateRoom:
		return new(CreateRoom)
	case CmdAfterDestroyRoom:
		return new(DestroyRoom)
	case CmdAfterUpdateRoomInfo:
		return new(UpdateRoom)
	case CmdAfterSetMetadata:
		return new(SetMetadata)
	case CmdAfterDelMetadata:
		return new(DelMetadata)
	case CmdAfterCreateRoomReachingThreshold:
		return new(RoomThreshold)
	case CmdAfterMemberStateChanged:
		return new(MemberStateChanged)
	case CmdAfterChangeOwner:
		return new(ChangeOwner)
	case CmdAfterModifyAdmin:
		return new(ModifyAdmin)
	case CmdAfterSeatInfoChanged:
		return new(SeatInfoChanged)
	case CmdAfterCreateBattle:
		return new(CreateBattle)
	case CmdAfterStartBattle:
		return new(StartBattle)
	case CmdAfterEndBattle:
		return new(EndBattle)
	case CmdBeforeSendGift:
		return new(BeforeSendGift)
	case CmdBeforeSendMsg:
		return new(BeforeSendMsg)
	case CmdAfterSendMsg:
		return new(AfterSendMsg)
	case CmdAfterFollowAdd:
		return new(FollowAdd)
	case CmdAfterFollowDelete:
		return new(FollowDelete)
	case CmdAfterCloudRecordingChanged, CmdAfterCloudRecordingChangedAlias:
		return new(CloudRecordingChanged)
	}
	return nil
}

// IsBefore reports whether command is a Before-callback, whose reply decides the operation:
// Live.CallbackBeforeSendGift or Group.CallbackBeforeSendMsg.
func IsBefore(command string) bool {
	return command == CmdBeforeSendGift || command == CmdBeforeSendMsg
}

// UserID is an account field such as Operator_Account. Tencent's samples print some of them
// as bare numbers, so a JSON number is accepted as well as a string; it is always encoded as
// a string.
type UserID string

// UnmarshalJSON accepts a JSON string or a JSON number.
func (u *UserID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*u = UserID(s)
		return nil
	}
	if string(b) == "null" {
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("account is neither a string nor a number: %s", b)
	}
	*u = UserID(n.String())
	return nil
}

// DefaultMaxBodyBytes bounds the body Parse reads when Handler.MaxBodyBytes is zero.
const DefaultMaxBodyBytes = 1 << 20

// Errors of Parse. They are wrapped with detail; test with errors.Is.
var (
	// ErrMalformed is a request that is not a callback: not a POST, no command, a command
	// in the query that differs from the body's, a body that is not a JSON object, a field
	// of the wrong type, or a body over the size limit.
	ErrMalformed = errors.New("malformed callback")
)

// Request is one callback as received: the query parameters, the Standard Webhooks
// headers, the raw body and the decoded event.
type Request struct {
	// SDKAppID is the SdkAppid query parameter (matched case-insensitively, as Tencent's
	// pages spell it both SdkAppid and SdkAppId); 0 when it is missing or not a number.
	SDKAppID uint64
	// Command is the command word: the CallbackCommand query parameter, or the body's
	// when the query has none.
	Command string
	// ContentType is the contenttype query parameter ("json").
	ContentType string
	// ClientIP and OptPlatform are the address and platform (RESTAPI, Web, Android, iOS,
	// …) of the client that caused the event; either may be empty.
	ClientIP    string
	OptPlatform string
	// Sign and RequestTime are Tencent's token signature; empty and 0 when the app has no
	// token enabled.
	Sign        string
	RequestTime int64
	// WebhookID, WebhookTimestamp and WebhookSignature are the Standard Webhooks headers:
	// the event id (the same on every attempt of one event), the attempt's Unix time in
	// seconds, and one or more space-separated "v1,<base64>" signatures.
	WebhookID        string
	WebhookTimestamp int64
	WebhookSignature string
	// Body is the request body exactly as received: signatures are computed over it.
	Body []byte
	// Event is a pointer to the body struct of Command (*ChangeOwner for
	// Live.CallbackAfterChangeOwner, …), or nil for a command the kit does not know.
	Event any

	timestampText string
}

// Parse reads a callback request: the query, the headers and a body of at most
// DefaultMaxBodyBytes, and decodes the body into the struct of its command. It verifies
// nothing; see [Verifier]. The error wraps ErrMalformed.
func Parse(r *http.Request) (*Request, error) {
	return parse(r, DefaultMaxBodyBytes)
}

func parse(r *http.Request, maxBody int64) (*Request, error) {
	if r.Method != http.MethodPost {
		return nil, fmt.Errorf("%w: method %s, want POST", ErrMalformed, r.Method)
	}
	if maxBody <= 0 {
		maxBody = DefaultMaxBodyBytes
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read body: %v", ErrMalformed, err)
	}
	if int64(len(body)) > maxBody {
		return nil, fmt.Errorf("%w: body longer than %d bytes", ErrMalformed, maxBody)
	}
	req := &Request{Body: body}
	for k, vs := range r.URL.Query() {
		if len(vs) == 0 {
			continue
		}
		v := vs[0]
		switch strings.ToLower(k) {
		case "sdkappid":
			req.SDKAppID, _ = strconv.ParseUint(v, 10, 64)
		case "callbackcommand":
			req.Command = v
		case "contenttype":
			req.ContentType = v
		case "clientip":
			req.ClientIP = v
		case "optplatform":
			req.OptPlatform = v
		case "sign":
			req.Sign = v
		case "requesttime":
			req.RequestTime, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	req.WebhookID = r.Header.Get("webhook-id")
	req.timestampText = r.Header.Get("webhook-timestamp")
	req.WebhookTimestamp, _ = strconv.ParseInt(req.timestampText, 10, 64)
	req.WebhookSignature = r.Header.Get("webhook-signature")

	cmd, ev, err := decode(req.Command, body)
	if err != nil {
		return nil, err
	}
	req.Command, req.Event = cmd, ev
	return req, nil
}

// ParseBody decodes a callback body into the struct of its command and returns a pointer to
// it, or nil for a command the kit does not know. command may be empty; it is then taken
// from the body's CallbackCommand. The error wraps ErrMalformed.
func ParseBody(command string, body []byte) (any, error) {
	_, ev, err := decode(command, body)
	return ev, err
}

func decode(command string, body []byte) (string, any, error) {
	var head struct {
		CallbackCommand *string `json:"CallbackCommand"`
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return "", nil, fmt.Errorf("%w: body is not a JSON object", ErrMalformed)
	}
	if err := json.Unmarshal(trimmed, &head); err != nil {
		return "", nil, fmt.Errorf("%w: body: %v", ErrMalformed, err)
	}
	inBody := ""
	if head.CallbackCommand != nil {
		inBody = *head.CallbackCommand
	}
	switch {
	case command == "" && inBody == "":
		return "", nil, fmt.Errorf("%w: no CallbackCommand in the query or the body", ErrMalformed)
	case command == "":
		command = inBody
	case inBody != "" && inBody != command:
		return "", nil, fmt.Errorf("%w: CallbackCommand %q in the query, %q in the body", ErrMalformed, command, inBody)
	}
	ev := newEvent(command)
	if ev == nil {
		return command, nil, nil
	}
	if err := json.Unmarshal(trimmed, ev); err != nil {
		return "", nil, fmt.Errorf("%w: body of %s: %v", ErrMalformed, command, err)
	}
	return command, ev, nil
}
