package room

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/store"
)

// IM group messages (send_group_msg, https://www.tencentcloud.com/document/product/1047/34959):
// a live room is the IM group of the same id (the Manager sends its chat with GroupId =
// RoomId), so a group message goes the way of send_text_msg and send_custom_msg (send in
// messages.go): the room's checks, Group.CallbackBeforeSendMsg, the history under the
// room's next MsgSeq, TotalMsgCount, Group.CallbackAfterSendMsg and the pushes to the
// room's clients.

// ErrMsgTooLong: a group message's MsgBody, or its CloudCustomData, is longer than 12 KB
// (80002, IM's code for a message over its size limit).
var ErrMsgTooLong = errcode.New(errcode.MsgTooLong, "message longer than 12 KB")

// GroupMsgDedupWindow is how long a Random identifies a group message: a message to the
// same group with the Random of one sent within it is that message again, answered with its
// MsgSeq and MsgTime and not sent twice.
const GroupMsgDedupWindow = 5 * time.Minute

// The IM message element types a group message may carry
// (https://www.tencentcloud.com/document/product/1047/33527).
var groupElemTypes = map[string]bool{
	TextElem: true, CustomElem: true, "TIMLocationElem": true, "TIMFaceElem": true, "TIMSoundElem": true,
	"TIMImageElem": true, "TIMFileElem": true, "TIMVideoFileElem": true,
}

// GroupMessage is a send_group_msg request. An empty Sender is the operator.
type GroupMessage struct {
	GroupID string
	Sender  string
	// Random identifies the message for GroupMsgDedupWindow when HasRandom; without it
	// roomd makes one and never treats the message as a repeat.
	Random    uint32
	HasRandom bool
	// MsgBody is the JSON array of message elements.
	MsgBody         json.RawMessage
	CloudCustomData string
	// NoBefore and NoAfter skip Group.CallbackBeforeSendMsg and Group.CallbackAfterSendMsg
	// (ForbidCallbackControl).
	NoBefore, NoAfter bool
}

// SendGroup sends an IM group message to the room GroupID. MsgBody must be a non-empty
// array of known elements, each with an object MsgContent, a TIMTextElem with a Text
// string and a TIMCustomElem with a Data string (10004 otherwise); MsgBody and
// CloudCustomData are each at most 12 KB (80002). The room's errors are the ones of
// send_text_msg (the REST door answers them in IM's codes).
func (s *MessageService) SendGroup(ctx context.Context, a Actor, m GroupMessage) (SendResult, error) {
	switch {
	case m.GroupID == "":
		return SendResult{}, errcode.Invalid("GroupId", "is required")
	case len(m.GroupID) > MaxRoomIDBytes:
		return SendResult{}, errcode.Invalid("GroupId", "is longer than %d bytes", MaxRoomIDBytes)
	}
	if len(m.MsgBody) == 0 || isNull(m.MsgBody) {
		return SendResult{}, errcode.Invalid("MsgBody", "is required")
	}
	body, err := ParseMsgBody(m.MsgBody)
	if err != nil {
		return SendResult{}, errcode.Invalid("MsgBody", "%v", err)
	}
	if err := checkGroupElems(body); err != nil {
		return SendResult{}, err
	}
	if len(body) > MaxMsgContentBytes {
		return SendResult{}, fmt.Errorf("%w: MsgBody has %d bytes, at most %d", ErrMsgTooLong, len(body), MaxMsgContentBytes)
	}
	if len(m.CloudCustomData) > MaxMsgContentBytes {
		return SendResult{}, fmt.Errorf("%w: CloudCustomData has %d bytes, at most %d", ErrMsgTooLong, len(m.CloudCustomData), MaxMsgContentBytes)
	}
	sender := m.Sender
	if sender == "" {
		sender = a.Operator
	}
	if m.HasRandom {
		prev, err := s.o.Store.MessageFindRandom(ctx, a.App, m.GroupID, m.Random, s.o.Now().Add(-GroupMsgDedupWindow))
		if err == nil {
			return SendResult{MsgTime: prev.Time.Unix(), MsgSeq: prev.Seq}, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return SendResult{}, err
		}
	}
	return s.send(ctx, a, &outgoing{roomID: m.GroupID, sender: sender, body: body, cloud: m.CloudCustomData,
		random: m.Random, hasRandom: m.HasRandom, noBefore: m.NoBefore, noAfter: m.NoAfter})
}

// checkGroupElems checks the element types of a parsed MsgBody.
func checkGroupElems(body json.RawMessage) error {
	var elems []struct {
		MsgType    string
		MsgContent map[string]json.RawMessage
	}
	if err := json.Unmarshal(body, &elems); err != nil {
		return errcode.Invalid("MsgBody", "is not an array of message elements")
	}
	for i, e := range elems {
		if !groupElemTypes[e.MsgType] {
			return errcode.Invalid(fmt.Sprintf("MsgBody[%d].MsgType", i), "%q is not an IM message element type", e.MsgType)
		}
		var need string
		switch e.MsgType {
		case TextElem:
			need = "Text"
		case CustomElem:
			need = "Data"
		default:
			continue
		}
		var v string
		if raw, ok := e.MsgContent[need]; !ok || json.Unmarshal(raw, &v) != nil {
			return errcode.Invalid(fmt.Sprintf("MsgBody[%d].MsgContent.%s", i, need), "must be a string")
		}
	}
	return nil
}

// readElems sets what the client API shows of a message (docs/decisions.md): with any
// TIMTextElem, the text of all of them in order (onReceiveTextMessage); otherwise, with a
// TIMCustomElem, the first one's Data read as CustomData ({"BusinessId","Data"}) or, when
// it is not, an empty BusinessID with Data as it is (onReceiveCustomMessage); otherwise
// (only images, faces, sounds, files, videos or locations) nothing: Silent.
func readElems(ev *MessageSent) {
	var elems []struct {
		MsgType    string
		MsgContent struct{ Text, Data string }
	}
	if json.Unmarshal(ev.Body, &elems) != nil {
		ev.Silent = true
		return
	}
	var text strings.Builder
	hasText := false
	custom := -1
	for i, e := range elems {
		switch e.MsgType {
		case TextElem:
			hasText = true
			text.WriteString(e.MsgContent.Text)
		case CustomElem:
			if custom < 0 {
				custom = i
			}
		}
	}
	switch {
	case hasText:
		ev.Text = text.String()
	case custom >= 0:
		data := elems[custom].MsgContent.Data
		var c struct{ BusinessId, Data *string }
		if json.Unmarshal([]byte(data), &c) == nil && c.BusinessId != nil && c.Data != nil {
			ev.Custom, ev.BusinessID, ev.Data = true, *c.BusinessId, *c.Data
		} else {
			ev.Custom, ev.Data = true, data
		}
	default:
		ev.Silent = true
	}
}
