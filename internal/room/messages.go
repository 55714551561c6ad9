package room

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/wirejson"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

// Room messages (send_text_msg, https://www.tencentcloud.com/document/product/647/74353, and
// send_custom_msg, https://www.tencentcloud.com/document/product/647/74354): both store a message
// in the room's history under the room's next MsgSeq, count it in TotalMsgCount and emit
// Group.CallbackAfterSendMsg, all in one transaction. Before that, when the app switched it
// on, the Before-callback Group.CallbackBeforeSendMsg decides the message, by the reply
// codes of its page (https://www.tencentcloud.com/document/product/647/74347):
//
//   - ErrorCode 0: the message is sent; a MsgBody and/or CloudCustomData in the reply
//     replace the original in the history and in the After-callback.
//   - ErrorCode 2: the message is dropped silently. The sender is told success with a
//     MsgTime and a MsgSeq like any other (the number is used up, so the history has a
//     gap); nothing is stored, counted or called back.
//   - ErrorCode 10100…10200: the message is refused with that code and the reply's
//     ErrorInfo.
//   - ErrorCode 1, or any other: the message is refused with 10016.
//   - No valid reply (timeout, HTTP status other than 200, a body that is not a JSON object
//     with an integer ErrorCode, an unusable replacement): the app's BeforeSendMsgOnFailure
//     policy decides, "allow" (the default) sends the original, "reject" refuses it with
//     10016.
//
// Messages the room refuses before any callback: a sender banned from the room (100006, as
// on entry), a muted sender, or a room whose IsMessageDisabled is on when the sender is not
// its owner, one of its admins or an App admin (10017 both, IM's code for a muted sender).
// An App user (an Actor without AppAdmin) sends only as itself (100006 otherwise).

// MaxMsgContentBytes bounds a message's content: TextContent, the custom element's Data
// (BusinessId and Data encoded together) and ExtensionInfo are each at most 12 KB, IM's
// message size limit.
const MaxMsgContentBytes = 12 << 10

// The IM message element types roomd builds.
const (
	TextElem   = "TIMTextElem"
	CustomElem = "TIMCustomElem"
)

// Reply codes of Group.CallbackBeforeSendMsg (https://www.tencentcloud.com/document/product/647/74347):
// 0 allows, 1 rejects (10016), 2 drops silently, 10100–10200 reach the sender as they are.
const (
	beforeAllow     = 0
	beforeReject    = 1
	beforeDrop      = 2
	beforePassFirst = 10100
	beforePassLast  = 10200
)

// MessageOptions wire a MessageService.
type MessageOptions struct {
	Store store.Store
	// Rooms publishes the messages sent (MessageSent): to the outbox, and to its observer.
	Rooms   *Service
	Configs *webhook.Configs
	Before  *webhook.BeforeCaller
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Rand makes the 32-bit Random of each message; math/rand/v2 when nil.
	Rand func() uint32
	// IsAppAdmin reports whether user is an App admin of app (exempt from
	// IsMessageDisabled). Nil: nobody is.
	IsAppAdmin func(app uint64, user string) bool
	Logger     *slog.Logger
}

// MessageService sends room messages and keeps their history.
type MessageService struct {
	o      MessageOptions
	before *beforeHook
}

// NewMessageService returns the message service.
func NewMessageService(o MessageOptions) *MessageService {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Uint32
	}
	if o.IsAppAdmin == nil {
		o.IsAppAdmin = func(uint64, string) bool { return false }
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &MessageService{o: o, before: &beforeHook{store: o.Store, configs: o.Configs, caller: o.Before, logger: o.Logger}}
}

// TextMessage is a send_text_msg request.
type TextMessage struct {
	RoomID string
	Sender string
	Text   string
	// ExtensionInfo, when not empty, must be JSON text; it becomes CloudCustomData.
	ExtensionInfo string
}

// CustomMessage is a send_custom_msg request. An empty Sender is the operator.
type CustomMessage struct {
	RoomID     string
	Sender     string
	BusinessID string
	Data       string
}

// SendResult is what the sender is told: the message's time (Unix seconds) and sequence.
type SendResult struct {
	MsgTime int64
	MsgSeq  int64
}

// outgoing is a message on its way: its MsgBody and CloudCustomData may be replaced by the
// Before-callback.
type outgoing struct {
	roomID string
	sender string
	body   json.RawMessage
	cloud  string
	// random, when hasRandom, is the sender's Random (send_group_msg); otherwise one is made.
	random    uint32
	hasRandom bool
	// noBefore and noAfter skip the message callbacks (send_group_msg's ForbidCallbackControl).
	noBefore, noAfter bool
}

type textContent struct {
	Text string `json:"Text"`
}

// customContent is a TIMCustomElem's MsgContent. Desc is left out: the Live API has no
// input for it, and the element carries everything in Data (docs/decisions.md).
type customContent struct {
	Data string `json:"Data"`
}

type msgElem struct {
	MsgType    string `json:"MsgType"`
	MsgContent any    `json:"MsgContent"`
}

func elemBody(typ string, content any) json.RawMessage {
	b, _ := wirejson.Marshal([]msgElem{{MsgType: typ, MsgContent: content}})
	return b
}

// SendText sends a text message: one TIMTextElem whose Text is m.Text, with ExtensionInfo as
// CloudCustomData.
func (s *MessageService) SendText(ctx context.Context, a Actor, m TextMessage) (SendResult, error) {
	if err := ValidateRoomID(m.RoomID); err != nil {
		return SendResult{}, err
	}
	if m.Sender == "" {
		return SendResult{}, errcode.Invalid("Sender_Account", "is required")
	}
	if m.Text == "" {
		return SendResult{}, errcode.Invalid("TextContent", "is required")
	}
	if len(m.Text) > MaxMsgContentBytes {
		return SendResult{}, errcode.Invalid("TextContent", "is longer than %d bytes", MaxMsgContentBytes)
	}
	if m.ExtensionInfo != "" {
		if len(m.ExtensionInfo) > MaxMsgContentBytes {
			return SendResult{}, errcode.Invalid("ExtensionInfo", "is longer than %d bytes", MaxMsgContentBytes)
		}
		if !json.Valid([]byte(m.ExtensionInfo)) {
			return SendResult{}, errcode.Invalid("ExtensionInfo", "must be a string holding JSON")
		}
	}
	return s.send(ctx, a, &outgoing{roomID: m.RoomID, sender: m.Sender, body: elemBody(TextElem, textContent{Text: m.Text}), cloud: m.ExtensionInfo})
}

// CustomData returns the Data of the TIMCustomElem of a custom message: the JSON encoding of
// {"BusinessId": businessID, "Data": data}, the element send_custom_msg's page describes
// (https://www.tencentcloud.com/document/product/647/74354).
func CustomData(businessID, data string) string {
	b, _ := wirejson.Marshal(struct {
		BusinessId string `json:"BusinessId"`
		Data       string `json:"Data"`
	}{businessID, data})
	return string(b)
}

// SendCustom sends a custom message: one TIMCustomElem whose Data is CustomData(BusinessID,
// Data). Without a Sender the operator sends it.
func (s *MessageService) SendCustom(ctx context.Context, a Actor, m CustomMessage) (SendResult, error) {
	if err := ValidateRoomID(m.RoomID); err != nil {
		return SendResult{}, err
	}
	if m.BusinessID == "" {
		return SendResult{}, errcode.Invalid("BusinessId", "is required")
	}
	data := CustomData(m.BusinessID, m.Data)
	if len(data) > MaxMsgContentBytes {
		return SendResult{}, errcode.Invalid("", "BusinessId and Data together are longer than %d bytes", MaxMsgContentBytes)
	}
	sender := m.Sender
	if sender == "" {
		sender = a.Operator
	}
	return s.send(ctx, a, &outgoing{roomID: m.RoomID, sender: sender, body: elemBody(CustomElem, customContent{Data: data})})
}

// History returns up to limit messages of a room with MsgSeq > afterSeq, in MsgSeq order.
func (s *MessageService) History(ctx context.Context, app uint64, roomID string, afterSeq int64, limit int) ([]store.Message, error) {
	if err := ValidateRoomID(roomID); err != nil {
		return nil, err
	}
	return s.o.Store.MessageList(ctx, store.MessageListParams{App: app, RoomID: roomID, AfterSeq: afterSeq, Limit: limit})
}

// msgID returns the MsgId of a message: "<sender key>-<Unix seconds>-<Random>", the shape of
// Tencent's ("144115233406643804-1727580296-4026038328"), where the sender key is a stable
// 63-bit hash of the app and sender.
func msgID(app uint64, sender string, at time.Time, random uint32) string {
	h := fnv.New64a()
	h.Write([]byte(strconv.FormatUint(app, 10)))
	h.Write([]byte{0})
	h.Write([]byte(sender))
	return strconv.FormatUint(h.Sum64()>>1, 10) + "-" + strconv.FormatInt(at.Unix(), 10) + "-" + strconv.FormatUint(uint64(random), 10)
}

// check refuses a message the room does not take: no such room (100004), a sender who is not
// an imported account (70107), a sender banned from the room (100006), a muted sender or a
// chat-disabled room (10017). The sender need not be in the room: Tencent's admin send
// works for any account.
func (s *MessageService) check(ctx context.Context, r store.Reader, app uint64, m *outgoing) error {
	row, err := requireRoom(ctx, r, app, m.roomID)
	if err != nil {
		return err
	}
	if err := requireAccount(ctx, r, app, "Sender_Account", m.sender); err != nil {
		return err
	}
	now := s.o.Now()
	if err := checkNotBanned(ctx, r, app, m.roomID, m.sender, now); err != nil {
		return err
	}
	mute, err := r.MuteGet(ctx, app, m.roomID, m.sender, now)
	if err == nil {
		return fmt.Errorf("%w: %s is muted in room %s until %d", ErrSenderMuted, m.sender, m.roomID, mute.Until.Unix())
	}
	if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	rm, err := fromRow(row)
	if err != nil {
		return err
	}
	if !rm.IsMessageDisabled || m.sender == rm.Owner || s.o.IsAppAdmin(app, m.sender) {
		return nil
	}
	admin, err := r.AdminIs(ctx, app, m.roomID, m.sender)
	if err != nil {
		return err
	}
	if !admin {
		return fmt.Errorf("%w: room %s has IsMessageDisabled on and %s is not its owner or an admin", ErrMessagesDisabled, m.roomID, m.sender)
	}
	return nil
}

// sendMsgRules are the reply rules of Group.CallbackBeforeSendMsg (see the top of this
// file); m is the message asked about, which an allowing reply may change.
func sendMsgRules(m *outgoing) *beforeRules {
	return &beforeRules{
		cmd:       webhook.BeforeSendMsg,
		passFirst: beforePassFirst, passLast: beforePassLast,
		rejected: func(info string) error { return fmt.Errorf("%w: %s", ErrMessageRejected, info) },
		failOpen: func(cfg *webhook.Config) bool { return cfg.BeforeSendMsgOnFailure != webhook.FailClosed },
		noReply: func(_ *webhook.Config, reason error) error {
			return fmt.Errorf("%w: %v; the app's BeforeSendMsgOnFailure policy is %q", ErrMessageRejected, reason, webhook.FailClosed)
		},
		special: func(res *webhook.BeforeResult) (verdict, error, bool) {
			switch res.Reply.ErrorCode {
			case beforeAllow:
				if err := applyReplacement(res.Reply.Fields, m); err != nil {
					res.Invalidate(err.Error())
					return 0, nil, false // no valid reply after all: the policy decides
				}
				return sendIt, nil, true
			case beforeDrop:
				return dropIt, nil, true
			}
			return 0, nil, false
		},
	}
}

// applyReplacement takes a replacement MsgBody and CloudCustomData from an allowing reply.
// Absent or null fields keep the original.
func applyReplacement(fields map[string]json.RawMessage, m *outgoing) error {
	if raw, ok := fields["MsgBody"]; ok && !isNull(raw) {
		body, err := ParseMsgBody(raw)
		if err != nil {
			return fmt.Errorf("MsgBody in the reply: %w", err)
		}
		m.body = body
	}
	if raw, ok := fields["CloudCustomData"]; ok && !isNull(raw) {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return errors.New("CloudCustomData in the reply is not a string")
		}
		m.cloud = s
	}
	return nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// ParseMsgBody checks a MsgBody from an App backend: a non-empty JSON array of objects, each
// with a non-empty string MsgType and an object MsgContent. It returns the array compacted.
func ParseMsgBody(raw []byte) (json.RawMessage, error) {
	var elems []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, errors.New("not an array of message elements")
	}
	if len(elems) == 0 {
		return nil, errors.New("no message elements")
	}
	for i, e := range elems {
		var typ string
		if err := json.Unmarshal(e["MsgType"], &typ); err != nil || typ == "" {
			return nil, fmt.Errorf("element %d has no MsgType string", i)
		}
		var content map[string]json.RawMessage
		if err := json.Unmarshal(e["MsgContent"], &content); err != nil || content == nil {
			return nil, fmt.Errorf("element %d has no MsgContent object", i)
		}
	}
	// A key given twice (say MsgContent as a string, then as an object) passes the checks
	// above, which see only the last one, but a receiver's decoder may read the first: such
	// a body is refused. Decoding into the element's shape sees every occurrence.
	var shaped []struct {
		MsgType    string
		MsgContent map[string]json.RawMessage
	}
	if err := json.Unmarshal(raw, &shaped); err != nil {
		return nil, errors.New("message elements have a field of the wrong type")
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil, errors.New("not an array of message elements")
	}
	return b.Bytes(), nil
}

// send runs a message through the room's checks, the Before-callback and the store.
func (s *MessageService) send(ctx context.Context, a Actor, m *outgoing) (SendResult, error) {
	if !a.AppAdmin && m.sender != a.Operator {
		return SendResult{}, fmt.Errorf("%w: %s cannot send as %s", ErrNoPermission, a.Operator, m.sender)
	}
	created := s.o.Now()
	random := s.o.Rand()
	if m.hasRandom {
		random = m.random
	}
	id := msgID(a.App, m.sender, created, random)

	before, v, err := s.before.ask(ctx, beforeAsk{
		actor: a, roomID: m.roomID, rules: sendMsgRules(m), skip: m.noBefore,
		// A message the room refuses anyway is refused before the App backend is asked.
		check: func(ctx context.Context) error { return s.check(ctx, s.o.Store, a.App, m) },
		body: func() any {
			return webhook.BeforeSendMsgBody{
				GroupId: m.roomID, Type: webhook.GroupTypeLive,
				From_Account: m.sender, Operator_Account: a.Operator, Random: random, MsgId: id,
				MsgBody: m.body, CloudCustomData: m.cloud, EventTime: created.UnixMilli(),
			}
		},
	})
	if err != nil {
		return SendResult{}, err
	}
	if v == dropIt {
		var res SendResult
		err := s.o.Store.Tx(ctx, func(tx store.Tx) error {
			if err := before.recordIn(ctx, tx); err != nil {
				return err
			}
			if _, err := requireRoom(ctx, tx, a.App, m.roomID); err != nil {
				return err
			}
			seq, err := tx.MessageNextSeq(ctx, a.App, m.roomID)
			res = SendResult{MsgTime: s.o.Now().Unix(), MsgSeq: seq}
			return err
		})
		if err = before.finish(ctx, m.roomID, err); err != nil {
			return SendResult{}, err
		}
		return res, nil
	}

	var res SendResult
	err = s.o.Store.Tx(ctx, func(tx store.Tx) error {
		if err := before.recordIn(ctx, tx); err != nil {
			return err
		}
		// (Checked again: the room may have changed while the App backend was deciding.)
		if err := s.check(ctx, tx, a.App, m); err != nil {
			return err
		}
		seq, err := tx.MessageNextSeq(ctx, a.App, m.roomID)
		if err != nil {
			return err
		}
		now := s.o.Now()
		if err := tx.MessageInsert(ctx, store.Message{
			App: a.App, RoomID: m.roomID, Seq: seq, Sender: m.sender, Time: now, Body: m.body,
			CloudCustomData: m.cloud, Random: random, MsgID: id,
		}); err != nil {
			return err
		}
		if err := tx.RoomStatsIncr(ctx, a.App, m.roomID, store.StatMsgCount, 1); err != nil {
			return err
		}
		res = SendResult{MsgTime: now.Unix(), MsgSeq: seq}
		return s.o.Rooms.publish(ctx, tx, a, sentEvent(newHead(a, m.roomID, now), m, seq, id, random))
	})
	if err = before.finish(ctx, m.roomID, err); err != nil {
		return SendResult{}, err
	}
	return res, nil
}

// sentEvent is the MessageSent of m, stored under seq; h.Time is the message's time.
func sentEvent(h EventHead, m *outgoing, seq int64, id string, random uint32) MessageSent {
	ev := MessageSent{EventHead: h, Sender: m.sender, Seq: seq, MsgID: id, Random: random, Body: m.body, CloudCustomData: m.cloud,
		NoCallback: m.noAfter}
	readElems(&ev)
	return ev
}

// Recent returns the last limit messages of a room (at most 100), in MsgSeq order.
func (s *MessageService) Recent(ctx context.Context, app uint64, roomID string, limit int) ([]store.Message, error) {
	if err := ValidateRoomID(roomID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	return s.o.Store.MessageList(ctx, store.MessageListParams{App: app, RoomID: roomID, Limit: limit, Newest: true})
}
