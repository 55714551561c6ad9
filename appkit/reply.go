package appkit

import (
	"encoding/json"
	"net/http"
)

// ErrorCodes of the Before-callback replies
// (https://www.tencentcloud.com/document/product/1047/34354 and the pages of the two
// callbacks).
const (
	// CodeAllow lets the operation go.
	CodeAllow = 0
	// CodeReject refuses it: the sender of a message gets error 10016, the sender of a gift
	// a refusal.
	CodeReject = 1
	// CodeDrop, for Group.CallbackBeforeSendMsg only, discards the message silently: its
	// sender is told it was sent.
	CodeDrop = 2

	// MsgPassThroughMin … MsgPassThroughMax are the codes of a message refusal that reach
	// the sender as they are, with ErrorInfo.
	MsgPassThroughMin = 10100
	MsgPassThroughMax = 10200
	// GiftPassThroughMin … GiftPassThroughMax are the codes of a gift refusal that reach
	// the sender as they are, with ErrorInfo.
	GiftPassThroughMin = 102100
	GiftPassThroughMax = 102200
)

// Reply is the App backend's answer to a callback. Only ErrorCode decides a Before-callback;
// ActionStatus is written as "OK" for ErrorCode 0 and "FAIL" otherwise.
type Reply struct {
	ErrorCode int
	ErrorInfo string
	// MsgBody, when not nil, replaces the message's body (Group.CallbackBeforeSendMsg with
	// ErrorCode 0 only).
	MsgBody []MsgElement
	// CloudCustomData, when not nil, replaces the message's CloudCustomData
	// (Group.CallbackBeforeSendMsg with ErrorCode 0 only).
	CloudCustomData *string
}

// Allow answers success: an After-callback is acknowledged, a Before-callback lets the
// operation go unchanged.
func Allow() Reply { return Reply{} }

// Reject refuses the operation of a Before-callback with ErrorCode 1 and info.
func Reject(info string) Reply { return Reply{ErrorCode: CodeReject, ErrorInfo: info} }

// RejectWithCode refuses the operation of a Before-callback with code and info. A code in
// MsgPassThroughMin…MsgPassThroughMax (messages) or GiftPassThroughMin…GiftPassThroughMax
// (gifts) reaches the sender as it is, with info; any other non-zero code is a plain
// refusal.
func RejectWithCode(code int, info string) Reply { return Reply{ErrorCode: code, ErrorInfo: info} }

// Drop discards a room message silently (ErrorCode 2 of Group.CallbackBeforeSendMsg): it is
// not sent, and its sender is told it was.
func Drop() Reply { return Reply{ErrorCode: CodeDrop} }

// Modify lets a room message go with body in place of its MsgBody.
func Modify(body []MsgElement) Reply { return Reply{MsgBody: body} }

// WithCloudCustomData returns r with s in place of the message's CloudCustomData.
func (r Reply) WithCloudCustomData(s string) Reply {
	r.CloudCustomData = &s
	return r
}

// MarshalJSON writes Tencent's reply object: ActionStatus, ErrorInfo, ErrorCode, and
// MsgBody and CloudCustomData when they are set.
func (r Reply) MarshalJSON() ([]byte, error) {
	status := "OK"
	if r.ErrorCode != 0 {
		status = "FAIL"
	}
	return json.Marshal(struct {
		ActionStatus    string       `json:"ActionStatus"`
		ErrorInfo       string       `json:"ErrorInfo"`
		ErrorCode       int          `json:"ErrorCode"`
		MsgBody         []MsgElement `json:"MsgBody,omitempty"`
		CloudCustomData *string      `json:"CloudCustomData,omitempty"`
	}{status, r.ErrorInfo, r.ErrorCode, r.MsgBody, r.CloudCustomData})
}

// WriteReply writes r as the answer to a callback: HTTP 200 with the JSON reply.
func WriteReply(w http.ResponseWriter, r Reply) error {
	return writeJSON(w, http.StatusOK, r)
}

// writeFailure answers with status and a FAIL reply whose ErrorInfo is info.
func writeFailure(w http.ResponseWriter, status int, info string) {
	writeJSON(w, status, Reply{ErrorCode: CodeReject, ErrorInfo: info})
}

func writeJSON(w http.ResponseWriter, status int, r Reply) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, err = w.Write(b)
	return err
}
