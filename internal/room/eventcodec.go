package room

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
)

// The encoding of room events for the other nodes of a cluster (store.Broadcast). A node
// that commits a change whose event matters to clients writes the event's encoding in the
// same transaction; every other node reads it back with DecodeEvent and hands it to its own
// connections (Service.ObserveRemote). The encoding is JSON:
//
//	{"head": <EventHead>, "event": <the event's fields>}
//
// with kind, stored next to it, the event's Go type name. The head travels apart because
// some events have a field that shadows one of EventHead's (BattleAnswered.RoomID). The
// encoding of every kind is pinned by testdata/broadcast_events.golden: nodes of two
// versions share one database during a rolling upgrade, so a change to it must stay
// readable by the previous version (add fields, never rename or retype one).

// broadcastKinds are the events other nodes' clients are told of, by kind. An event type
// that is in neither broadcastKinds nor localKinds fails TestEventKindsClassified.
var broadcastKinds = map[string]func() Event{}

// localKinds are the event types that are never broadcast, with why.
var localKinds = map[string]string{
	"ConnEntered":        "connection-local: names a connection of the node that made it",
	"ConnsLeft":          "connection-local: names connections of the node that made it",
	"RoomCreated":        "no client push: the room has no connection yet",
	"RoomCountThreshold": "callback only",
	"RecordingChanged":   "callback only",
	"FollowsChanged":     "callback only (no client push)",
}

func registerBroadcast[T Event]() {
	var zero T
	broadcastKinds[reflect.TypeOf(zero).Name()] = func() Event { return zero }
}

func init() {
	registerBroadcast[MembersOnline]()
	registerBroadcast[MembersOffline]()
	registerBroadcast[UserKicked]()
	registerBroadcast[RoomDismissed]()
	registerBroadcast[OwnerChanged]()
	registerBroadcast[AdminsChanged]()
	registerBroadcast[RoomInfoChanged]()
	registerBroadcast[MetadataChanged]()
	registerBroadcast[MessageSent]()
	registerBroadcast[MemberMuted]()
	registerBroadcast[SeatsChanged]()
	registerBroadcast[SeatKicked]()
	registerBroadcast[SeatRequested]()
	registerBroadcast[SeatRequestEnded]()
	registerBroadcast[GiftSent]()
	registerBroadcast[LikeSent]()
	registerBroadcast[BattleCreated]()
	registerBroadcast[BattleAnswered]()
	registerBroadcast[BattleStarted]()
	registerBroadcast[BattleScoresChanged]()
	registerBroadcast[BattleRoomExited]()
	registerBroadcast[BattleEnded]()
}

// eventEnvelope is the JSON form of a broadcast event.
type eventEnvelope struct {
	Head  EventHead       `json:"head"`
	Event json.RawMessage `json:"event"`
}

// EncodeEvent returns the kind and body of ev for the other nodes' clients; ok is false
// for an event that is not broadcast (localKinds) or that cannot be encoded.
func EncodeEvent(ev Event) (kind string, body []byte, ok bool) {
	if ev == nil {
		return "", nil, false
	}
	kind = reflect.TypeOf(ev).Name()
	if _, known := broadcastKinds[kind]; !known {
		return "", nil, false
	}
	// The envelope is written by hand: json.Marshal of an eventEnvelope would scan and
	// copy the event's encoding once more (a RawMessage is compacted and re-escaped), for
	// the same bytes.
	body = make([]byte, 0, 512)
	body = append(body, envelopeHead...)
	body = append(body, '{')
	if body, ok = appendHeadFields(body, ev.Head()); !ok {
		return "", nil, false
	}
	body = append(body, '}')
	body = append(body, envelopeEvent...)
	if b, handled := appendEvent(body, ev); handled {
		if b == nil {
			return "", nil, false
		}
		body = b
	} else {
		inner, err := json.Marshal(ev)
		if err != nil {
			return "", nil, false
		}
		body = append(body, inner...)
	}
	return kind, append(body, '}'), true
}

// appendEvent appends ev's encoding for the kinds the most frequent changes broadcast
// (presence, seats, owner), exactly as json.Marshal writes it but without reflection, which
// was about 5 % of a PostgreSQL node's CPU in the client's owner change (docs/bench.md,
// issue 13). handled is false for any other kind, which EncodeEvent gives to json.Marshal;
// a nil b with handled true means ev cannot be encoded (a time json.Marshal refuses).
// TestAppendEventMatchesJSON and FuzzDecodeEvent hold both encodings to the same bytes.
func appendEvent(b []byte, ev Event) (_ []byte, handled bool) {
	var ok bool
	b = append(b, '{')
	switch e := ev.(type) {
	case OwnerChanged:
		if b, ok = appendHeadFields(b, e.EventHead); ok {
			b = appendStringField(b, "From", e.From)
			b = appendStringField(b, "To", e.To)
		}
	case SeatsChanged:
		if b, ok = appendHeadFields(b, e.EventHead); ok {
			b = appendListField(b, "Seats", e.Seats, appendSeat)
			b = appendListField(b, "Seated", e.Seated, appendSeat)
			b = appendListField(b, "Left", e.Left, appendSeat)
		}
	case MembersOnline:
		if b, ok = appendHeadFields(b, e.EventHead); ok {
			b = appendPresence(b, e.Users, e.Cause, e.Audience)
		}
	case MembersOffline:
		if b, ok = appendHeadFields(b, e.EventHead); ok {
			b = appendPresence(b, e.Users, e.Cause, e.Audience)
		}
	default:
		return nil, false
	}
	if !ok {
		return nil, true
	}
	return append(b, '}'), true
}

// appendHeadFields appends h's fields as they appear inside an object that embeds it:
// "App":…,"RoomID":…,"Operator":…,"Platform":…,"ClientIP":…,"Time":…. ok is false for a
// time outside what RFC 3339 can write (json.Marshal refuses it too).
func appendHeadFields(b []byte, h EventHead) (_ []byte, ok bool) {
	b = append(b, `"App":`...)
	b = strconv.AppendUint(b, h.App, 10)
	b = appendStringField(b, "RoomID", h.RoomID)
	b = appendStringField(b, "Operator", h.Operator)
	b = appendStringField(b, "Platform", h.Platform)
	b = appendStringField(b, "ClientIP", h.ClientIP)
	b = append(b, `,"Time":"`...)
	b, err := h.Time.AppendText(b) // the text Time.MarshalJSON quotes
	if err != nil {
		return nil, false
	}
	return append(b, '"'), true
}

// appendPresence appends the fields MembersOnline and MembersOffline add to the head.
func appendPresence(b []byte, users []string, cause string, a Audience) []byte {
	b = appendListField(b, "Users", users, appendString)
	b = appendStringField(b, "Cause", cause)
	b = append(b, `,"MemberCount":`...)
	b = strconv.AppendInt(b, int64(a.MemberCount), 10)
	return appendListField(b, "Managers", a.Managers, appendString)
}

// appendName appends ,"name": (a field after the first).
func appendName(b []byte, name string) []byte {
	return append(append(append(append(b, ',', '"'), name...), '"'), ':')
}

// appendStringField appends ,"name":s.
func appendStringField(b []byte, name, s string) []byte {
	return appendString(appendName(b, name), s)
}

// appendListField appends ,"name":[…], each element appended by elem, or null for a nil
// slice, as json.Marshal does.
func appendListField[T any](b []byte, name string, l []T, elem func([]byte, T) []byte) []byte {
	b = appendName(b, name)
	if l == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, v := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = elem(b, v)
	}
	return append(b, ']')
}

// appendSeat appends one seat's object.
func appendSeat(b []byte, s Seat) []byte {
	b = append(b, `{"Index":`...)
	b = strconv.AppendInt(b, int64(s.Index), 10)
	b = appendStringField(b, "UserID", s.UserID)
	b = append(b, `,"Locked":`...)
	b = strconv.AppendBool(b, s.Locked)
	b = append(b, `,"VideoLocked":`...)
	b = strconv.AppendBool(b, s.VideoLocked)
	b = append(b, `,"AudioLocked":`...)
	b = strconv.AppendBool(b, s.AudioLocked)
	return append(b, '}')
}

// appendString appends s as json.Marshal writes a string (HTML characters escaped): a string
// of printable ASCII without a quote, a backslash or one of <, > and & stands for itself;
// any other is given to json.Marshal.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// The fixed parts of an eventEnvelope's JSON, as json.Marshal writes them.
const (
	envelopeHead  = `{"head":`
	envelopeEvent = `,"event":`
)

// ErrUnknownEventKind is DecodeEvent's error for a kind this version does not know (a
// newer node's): the caller skips the broadcast.
var ErrUnknownEventKind = errors.New("unknown room event kind")

// DecodeEvent returns the event EncodeEvent encoded as kind and body. Bodies come from the
// database, possibly written by another version of roomd: any input yields an event or an
// error, never a panic.
func DecodeEvent(kind string, body []byte) (Event, error) {
	zero, ok := broadcastKinds[kind]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownEventKind, kind)
	}
	var env eventEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("decode %s: %w", kind, err)
	}
	if len(env.Event) == 0 {
		return nil, fmt.Errorf("decode %s: no event", kind)
	}
	v := reflect.New(reflect.TypeOf(zero()))
	if err := json.Unmarshal(env.Event, v.Interface()); err != nil {
		return nil, fmt.Errorf("decode %s: %w", kind, err)
	}
	if env.Head.RoomID == "" {
		return nil, fmt.Errorf("decode %s: no room", kind)
	}
	v.Elem().FieldByName("EventHead").Set(reflect.ValueOf(env.Head))
	return v.Elem().Interface().(Event), nil
}
