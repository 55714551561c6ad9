package rest

import (
	"context"
	"encoding/json"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/room"
)

// The message APIs: send_text_msg (https://www.tencentcloud.com/document/product/647/74353) and
// send_custom_msg (https://www.tencentcloud.com/document/product/647/74354).

// sendMsgResponse is the Response of both send APIs. MsgDropReason appears only when a
// message was dropped by frequency control, which roomd does not do; a message dropped by the
// Before-callback (ErrorCode 2) is reported as plain success, as Tencent documents.
type sendMsgResponse struct {
	MsgTime       int64  `json:"MsgTime"`
	MsgSeq        int64  `json:"MsgSeq"`
	MsgDropReason string `json:"MsgDropReason,omitempty"`
}

func (h *Handler) sendTextMsg(ctx context.Context, c *call) (any, error) {
	var req struct {
		RoomId         string `json:"RoomId"`
		Sender_Account string `json:"Sender_Account"`
		TextContent    string `json:"TextContent"`
		ExtensionInfo  string `json:"ExtensionInfo"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	res, err := h.o.Messages.SendText(ctx, c.actor(), room.TextMessage{
		RoomID: req.RoomId, Sender: req.Sender_Account, Text: req.TextContent, ExtensionInfo: req.ExtensionInfo,
	})
	if err != nil {
		return nil, err
	}
	return sendMsgResponse{MsgTime: res.MsgTime, MsgSeq: res.MsgSeq}, nil
}

// flexString is a string field that one doc generation types as Integer (send_custom_msg
// Data: the English page says String, one Chinese edition says Integer): a JSON string is
// taken as it is, a JSON number as its
// literal text. Set records whether the field was present and not null.
type flexString struct {
	Value string
	Set   bool
}

func (f *flexString) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0:
		return errcode.InvalidBare("Data", "must be a string")
	case string(b) == "null":
		*f = flexString{}
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return errcode.InvalidBare("Data", "must be a string")
		}
		*f = flexString{Value: s, Set: true}
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return errcode.InvalidBare("Data", "must be a string")
	}
	*f = flexString{Value: n.String(), Set: true}
	return nil
}

func (h *Handler) sendCustomMsg(ctx context.Context, c *call) (any, error) {
	var req struct {
		RoomId         string     `json:"RoomId"`
		Sender_Account string     `json:"Sender_Account"`
		BusinessId     string     `json:"BusinessId"`
		Data           flexString `json:"Data"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if !req.Data.Set {
		return nil, errcode.InvalidBare("Data", "is required")
	}
	res, err := h.o.Messages.SendCustom(ctx, c.actor(), room.CustomMessage{
		RoomID: req.RoomId, Sender: req.Sender_Account, BusinessID: req.BusinessId, Data: req.Data.Value,
	})
	if err != nil {
		return nil, err
	}
	return sendMsgResponse{MsgTime: res.MsgTime, MsgSeq: res.MsgSeq}, nil
}
