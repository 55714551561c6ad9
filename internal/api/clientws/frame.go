package clientws

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"sync"
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
	// compacted; like Params, a part of the frame. It is nil when the frame has no "id"
	// member: a JSON-RPC notification, which is executed and never answered.
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
//
// ID and Params are parts of frame, not copies: they are valid as long as frame is.
func DecodeFrame(frame []byte) (Request, json.RawMessage, *Error) {
	if !json.Valid(frame) {
		return Request{}, nil, &Error{Code: CodeParseError, Message: "parse error: the frame is not valid JSON"}
	}
	m, ok := scanMembers(frame)
	if !ok { // a member name with an escape: decode the slow way
		return decodeMembers(frame)
	}
	if !m.object {
		return Request{}, nil, errNotObject
	}
	return checkMembers(m)
}

var errNotObject = &Error{Code: CodeInvalidRequest, Message: "invalid request: the frame is not a JSON object"}

// envelope is the members of a request object DecodeFrame looks at, as raw JSON values (nil
// when absent).
type envelope struct {
	object                      bool // the frame is a JSON object
	version, id, method, params json.RawMessage
}

// checkMembers applies the rules of a request object to its members.
func checkMembers(m envelope) (Request, json.RawMessage, *Error) {
	var req Request
	if m.version == nil || !isVersion2(m.version) {
		return req, nil, &Error{Code: CodeInvalidRequest, Message: `invalid request: "jsonrpc" must be "2.0"`}
	}
	if m.id != nil {
		id, err := compactID(m.id)
		if err != nil {
			return req, nil, &Error{Code: CodeInvalidRequest, Message: `invalid request: "id" must be a string, a number or null`}
		}
		req.ID = id
	}
	if m.method == nil || !decodeString(m.method, &req.Method) || req.Method == "" {
		return Request{}, nil, &Error{Code: CodeInvalidRequest, Message: `invalid request: "method" must be a non-empty string`}
	}
	req.Params = emptyObject
	if raw := m.params; raw != nil {
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

// isVersion2 reports whether raw is the JSON string "2.0".
func isVersion2(raw json.RawMessage) bool {
	if string(raw) == `"2.0"` {
		return true
	}
	var v string
	return decodeString(raw, &v) && v == "2.0"
}

// decodeString decodes raw, a valid JSON value, into *v as json.Unmarshal does (null
// leaves *v alone), reporting false when raw is neither a string nor null. A string of
// plain printable ASCII, the usual case, is taken as it is.
func decodeString(raw json.RawMessage, v *string) bool {
	if len(raw) >= 2 && raw[0] == '"' && plainASCII(raw[1:len(raw)-1]) {
		*v = string(raw[1 : len(raw)-1])
		return true
	}
	return json.Unmarshal(raw, v) == nil
}

// plainASCII reports whether b is printable ASCII without a backslash or a quote: the
// bytes of a JSON string that stand for themselves.
func plainASCII(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c >= 0x7f || c == '\\' || c == '"' {
			return false
		}
	}
	return true
}

// scanMembers finds the members DecodeFrame looks at in frame, which must be valid JSON,
// in one pass: for a frame that is an object, the raw value of its last "jsonrpc", "id",
// "method" and "params" members (the last one wins, as with json.Unmarshal into a map).
// It reports false when a member name holds an escape (\u0069d is "id"): the caller then
// decodes with encoding/json.
func scanMembers(frame []byte) (envelope, bool) {
	var m envelope
	i := skipSpace(frame, 0)
	if frame[i] != '{' {
		return m, true
	}
	m.object = true
	i = skipSpace(frame, i+1)
	for frame[i] != '}' {
		// frame[i] is the '"' of a member name.
		end := i + 1
		for frame[end] != '"' {
			if frame[end] == '\\' {
				return m, false
			}
			end++
		}
		name := frame[i+1 : end]
		i = skipSpace(frame, end+1) + 1 // past ':'
		i = skipSpace(frame, i)
		vend := skipValue(frame, i)
		val := frame[i:vend:vend]
		switch string(name) {
		case "jsonrpc":
			m.version = val
		case "id":
			m.id = val
		case "method":
			m.method = val
		case "params":
			m.params = val
		}
		i = skipSpace(frame, vend)
		if frame[i] == ',' {
			i = skipSpace(frame, i+1)
		}
	}
	return m, true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value starting at b[i]; b is valid JSON.
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; ; i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	default: // a number, true, false or null
		for i < len(b) {
			switch b[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
			i++
		}
		return i
	}
}

// skipString returns the end of the JSON string starting at b[i] (past its closing quote).
func skipString(b []byte, i int) int {
	for i++; b[i] != '"'; i++ {
		if b[i] == '\\' {
			i++
		}
	}
	return i + 1
}

// decodeMembers is DecodeFrame with encoding/json, for frames whose member names hold
// escapes.
func decodeMembers(frame []byte) (Request, json.RawMessage, *Error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(frame, &members); err != nil || members == nil {
		return Request{}, nil, errNotObject
	}
	return checkMembers(envelope{object: true, version: members["jsonrpc"], id: members["id"],
		method: members["method"], params: members["params"]})
}

var errBadID = errors.New("bad id")

// compactID checks that raw, one valid JSON value, is a valid JSON-RPC id and returns it
// without insignificant whitespace, so that it can be echoed in the response. A string, a
// number or null is a single token, which holds no insignificant whitespace once trimmed:
// the id is raw itself (a part of the frame, as Params is), not a copy.
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
	if !json.Valid(raw) {
		return nil, errBadID
	}
	return raw, nil
}

var nullID = json.RawMessage(`null`)

// scratch is a buffer and a JSON encoder writing to it, reused across encodings (scratches):
// a frame is encoded in it and copied out once, at its final size.
type scratch struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var scratches = sync.Pool{New: func() any {
	sc := &scratch{}
	sc.enc = json.NewEncoder(&sc.buf)
	sc.enc.SetEscapeHTML(false)
	return sc
}}

// encode runs write on a scratch buffer and returns a copy of what it wrote: the payload,
// or with framed the payload as a WebSocket text frame (textFrame).
func encode(framed bool, write func(sc *scratch) error) ([]byte, error) {
	sc := scratches.Get().(*scratch)
	sc.buf.Reset()
	err := write(sc)
	var out []byte
	if err == nil {
		if framed {
			out = textFrame(sc.buf.Bytes())
		} else {
			out = bytes.Clone(sc.buf.Bytes())
		}
	}
	if sc.buf.Cap() <= 64<<10 {
		scratches.Put(sc)
	}
	return out, err
}

// value encodes v as JSON without HTML escaping and without a trailing newline; nil is
// written as {}.
func (sc *scratch) value(v any) error {
	switch v := v.(type) {
	case nil:
		sc.buf.WriteString("{}")
		return nil
	case string:
		if plainASCII([]byte(v)) { // the usual method name: stands for itself
			sc.buf.WriteByte('"')
			sc.buf.WriteString(v)
			sc.buf.WriteByte('"')
			return nil
		}
	case JSONAppender:
		sc.buf.Write(v.AppendJSON(sc.buf.AvailableBuffer()))
		return nil
	}
	start := sc.buf.Len()
	if err := sc.enc.Encode(v); err != nil {
		sc.buf.Truncate(start)
		return err
	}
	sc.buf.Truncate(sc.buf.Len() - 1) // Encode's newline
	return nil
}

// JSONAppender is a value that encodes itself: AppendJSON appends to b exactly the bytes
// encoding/json writes for the value (with SetEscapeHTML(false), as every frame is encoded),
// without reflection. The pushes a change makes in every room (onUserRoleChanged,
// onSeatListChanged) implement it; AppendJSONString encodes their strings.
type JSONAppender interface {
	AppendJSON(b []byte) []byte
}

// AppendJSONString appends s to b as a JSON string, exactly as encoding/json without HTML
// escaping writes it: printable ASCII other than a quote and a backslash stands for
// itself; any other string is encoded by encoding/json.
func AppendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '\\' || c == '"' {
			return appendStringSlow(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendStringSlow(b []byte, s string) []byte {
	sc := scratches.Get().(*scratch)
	sc.buf.Reset()
	_ = sc.enc.Encode(s) // a string always encodes
	b = append(b, sc.buf.Bytes()[:sc.buf.Len()-1]...)
	if sc.buf.Cap() <= 64<<10 {
		scratches.Put(sc)
	}
	return b
}

func (sc *scratch) result(id json.RawMessage, result any) error {
	if id == nil {
		id = nullID
	}
	sc.buf.WriteString(`{"jsonrpc":"2.0","id":`)
	sc.buf.Write(id)
	sc.buf.WriteString(`,"result":`)
	if err := sc.value(result); err != nil {
		return err
	}
	sc.buf.WriteByte('}')
	return nil
}

func (sc *scratch) failure(id json.RawMessage, e *Error) error {
	if id == nil {
		id = nullID
	}
	sc.buf.WriteString(`{"jsonrpc":"2.0","id":`)
	sc.buf.Write(id)
	sc.buf.WriteString(`,"error":`)
	_ = sc.value(e) // a struct of an int and a string always encodes
	sc.buf.WriteByte('}')
	return nil
}

func (sc *scratch) notification(method string, params any) error {
	sc.buf.WriteString(`{"jsonrpc":"2.0","method":`)
	if err := sc.value(method); err != nil {
		return err
	}
	sc.buf.WriteString(`,"params":`)
	if err := sc.value(params); err != nil {
		return err
	}
	sc.buf.WriteByte('}')
	return nil
}

// EncodeResult returns the response frame {"jsonrpc":"2.0","id":id,"result":result}. A nil
// result is encoded as {}, so every result is a JSON object or value a client can decode.
func EncodeResult(id json.RawMessage, result any) ([]byte, error) {
	return encode(false, func(sc *scratch) error { return sc.result(id, result) })
}

// EncodeError returns the response frame
// {"jsonrpc":"2.0","id":id,"error":{"code":…,"message":…}}; a nil id is written as null.
func EncodeError(id json.RawMessage, e *Error) []byte {
	b, _ := encode(false, func(sc *scratch) error { return sc.failure(id, e) })
	return b
}

// EncodeNotification returns the notification frame
// {"jsonrpc":"2.0","method":method,"params":params}; nil params are encoded as {}.
func EncodeNotification(method string, params any) ([]byte, error) {
	return encode(false, func(sc *scratch) error { return sc.notification(method, params) })
}

// resultFrame is EncodeResult as a WebSocket frame (textFrame), errorFrame EncodeError's,
// and notificationFrame EncodeNotification's.
func resultFrame(id json.RawMessage, result any) ([]byte, error) {
	return encode(true, func(sc *scratch) error { return sc.result(id, result) })
}

func errorFrame(id json.RawMessage, e *Error) []byte {
	b, _ := encode(true, func(sc *scratch) error { return sc.failure(id, e) })
	return b
}

func notificationFrame(method string, params any) ([]byte, error) {
	return encode(true, func(sc *scratch) error { return sc.notification(method, params) })
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
