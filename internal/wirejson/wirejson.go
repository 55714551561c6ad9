// Package wirejson encodes the JSON roomd puts on the wire: REST replies and callback bodies.
//
// It differs from encoding/json.Marshal in one way: '<', '>' and '&' are written as they
// are, not as \u003c, \u003e and \u0026. The HTML escaping of encoding/json protects JSON
// embedded in HTML pages, which these bodies never are, and Tencent's servers do not escape
// them; a callback body or reply then carries the same bytes as Tencent's would.
package wirejson

import (
	"bytes"
	"encoding/json"
)

// Marshal returns the compact JSON encoding of v without HTML escaping.
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	out := b.Bytes()
	return out[:len(out)-1], nil // Encode ends with a newline
}
