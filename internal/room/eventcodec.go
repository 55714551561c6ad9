package room

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
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
	inner, err := json.Marshal(ev)
	if err != nil {
		return "", nil, false
	}
	head, err := json.Marshal(ev.Head())
	if err != nil {
		return "", nil, false
	}
	// The envelope is written by hand: json.Marshal of an eventEnvelope would scan and
	// copy inner once more (a RawMessage is compacted and re-escaped), for the same bytes.
	body = make([]byte, 0, len(envelopeHead)+len(head)+len(envelopeEvent)+len(inner)+1)
	body = append(append(append(append(append(body, envelopeHead...), head...), envelopeEvent...), inner...), '}')
	return kind, body, true
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
