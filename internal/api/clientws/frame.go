package clientws

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
)

// JSON-RPC 2.0's own error codes, which the transport answers for frames it cannot hand to a
// method. Errors of a method carry Tencent's codes instead (errcode.Classify).
const (
	CodeParseError     = -32700 // the frame is not JSON
	CodeInvalidRequest = -32600 // JSON, but not a JSON-RPC 2.0 request object
	CodeMethodNotFound = -32601 // no method of that name
	CodeInvalidParams  = -32602 // params is present but not a JSON object
)

// Error is a JSON-RPC error object: Code is a JSON-RPC code (negative) for transport
// failures and a Tencent code (errcode) for failures of a method.
type Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Message }

// Request is one decoded client frame.
type Request struct {
	// ID is the request's id exactly as the client sent it (a JSON string, number or null),
	// compacted. It is nil when the frame has no "id" member: a JSON-RPC notification,
	// which is executed and never answered.
	ID json.RawMessage
	// Method is the method name, never empty.
	Method string
	// Params is the "params" object, or {} when the frame has no params (or params null).
	Params json.RawMessage
}

// IsNotification reports whether the request has no id and so gets no response.
func (r *Request) IsNotification() bool { return r.ID == nil }

var emptyObject = json.RawMessage(`{}`)

// DecodeFrame decodes one text frame from a client. It is a pure function of its input and
// never panics. On failure it returns the JSON-RPC error to answer and the id to answer it
// with: null (nil) for a frame that is not JSON (-32700) or not a request object (-32600),
// the request's own id for params that are not an object (-32602). Batches (JSON arrays)
// are not supported and answer -32600.
//
// Member names are matched exactly ("jsonrpc", "id", "method", "params"); other members
// are ignored. "jsonrpc" must be the string "2.0"; "method" a non-empty string; "id", when
// present, a string, a number or null.
func DecodeFrame(frame []byte) (Request, json.RawMessage, *Error) {
	var req Request
	if !json.Valid(frame) {
		return req, nil, &Error{Code: CodeParseError, Message: "parse error: the frame is not valid JSON"}
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(frame, &members); err != nil || members == nil {
		return req, nil, &Error{Code: CodeInvalidRequest, Message: "invalid request: the frame is not a JSON object"}
	}
	var version string
	if raw, ok := members["jsonrpc"]; !ok || json.Unmarshal(raw, &version) != nil || version != "2.0" {
		return req, nil, &Error{Code: CodeInvalidRequest, Message: `invalid request: "jsonrpc" must be "2.0"`}
	}
	if raw, ok := members["id"]; ok {
		id, err := compactID(raw)
		if err != nil {
			return req, nil, &Error{Code: CodeInvalidRequest, Message: `invalid request: "id" must be a string, a number or null`}
		}
		req.ID = id
	}
	raw, ok := members["method"]
	if !ok || json.Unmarshal(raw, &req.Method) != nil || req.Method == "" {
		return Request{}, nil, &Error{Code: CodeInvalidRequest, Message: `invalid request: "method" must be a non-empty string`}
	}
	req.Params = emptyObject
	if raw, ok := members["params"]; ok {
		switch raw = bytes.TrimSpace(raw); {
		case len(raw) > 0 && raw[0] == '{':
			req.Params = raw
		case string(raw) == "null":
		default:
			return req, req.ID, &Error{Code: CodeInvalidParams, Message: `invalid params: "params" must be a JSON object`}
		}
	}
	return req, req.ID, nil
}

var errBadID = errors.New("bad id")

// compactID checks that raw is a valid JSON-RPC id and returns it without insignificant
// whitespace, so that it can be echoed in the response.
func compactID(raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, errBadID
	}
	switch c := raw[0]; {
	case c == '"', c == '-', c >= '0' && c <= '9', string(raw) == "null":
	default:
		return nil, errBadID
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, errBadID
	}
	return buf.Bytes(), nil
}

var nullID = json.RawMessage(`null`)

// marshalValue encodes v as JSON without HTML escaping and without a trailing newline.
func marshalValue(buf *bytes.Buffer, v any) error {
	if v == nil {
		buf.WriteString("{}")
		return nil
	}
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	start := buf.Len()
	if err := enc.Encode(v); err != nil {
		buf.Truncate(start)
		return err
	}
	buf.Truncate(buf.Len() - 1) // Encode's newline
	return nil
}

// EncodeResult returns the response frame {"jsonrpc":"2.0","id":id,"result":result}. A nil
// result is encoded as {}, so every result is a JSON object or value a client can decode.
func EncodeResult(id json.RawMessage, result any) ([]byte, error) {
	if id == nil {
		id = nullID
	}
	var buf bytes.Buffer
	buf.WriteString(`{"jsonrpc":"2.0","id":`)
	buf.Write(id)
	buf.WriteString(`,"result":`)
	if err := marshalValue(&buf, result); err != nil {
		return nil, err
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// EncodeError returns the response frame
// {"jsonrpc":"2.0","id":id,"error":{"code":…,"message":…}}; a nil id is written as null.
func EncodeError(id json.RawMessage, e *Error) []byte {
	if id == nil {
		id = nullID
	}
	var buf bytes.Buffer
	buf.WriteString(`{"jsonrpc":"2.0","id":`)
	buf.Write(id)
	buf.WriteString(`,"error":`)
	_ = marshalValue(&buf, e) // a struct of an int and a string always encodes
	buf.WriteByte('}')
	return buf.Bytes()
}

// EncodeNotification returns the notification frame
// {"jsonrpc":"2.0","method":method,"params":params}; nil params are encoded as {}.
func EncodeNotification(method string, params any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(`{"jsonrpc":"2.0","method":`)
	if err := marshalValue(&buf, method); err != nil {
		return nil, err
	}
	buf.WriteString(`,"params":`)
	if err := marshalValue(&buf, params); err != nil {
		return nil, err
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// textFrame returns payload as one final, unmasked WebSocket text frame (RFC 6455 §5.2):
// the bytes a server writes for a message. A server's frames are the same for every
// connection, so a notification for a room is framed once and the same bytes are written to
// each member; they are never modified.
func textFrame(payload []byte) []byte {
	n := len(payload)
	var f []byte
	switch {
	case n < 126:
		f = make([]byte, 2, 2+n)
		f[1] = byte(n)
	case n <= 0xffff:
		f = make([]byte, 4, 4+n)
		f[1] = 126
		binary.BigEndian.PutUint16(f[2:], uint16(n))
	default:
		f = make([]byte, 10, 10+n)
		f[1] = 127
		binary.BigEndian.PutUint64(f[2:], uint64(n))
	}
	f[0] = 0x81 // FIN, text
	return append(f, payload...)
}
