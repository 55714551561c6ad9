package rest

// decodeFlatStrings is the fast path of call.decode for a request whose fields are all
// strings, such as change_room_owner's {"RoomId":"…","NewOwner_Account":"…"}. It decodes b
// into *dst[i] for the field named names[i] and reports true only when b is a JSON object
// in the one shape where json.Unmarshal is known to give the same result and no error:
// every key one of names, exactly as spelled, and every value a string of printable ASCII
// without escapes (a repeated key: the last value wins, as with json.Unmarshal). Anything
// else (another key or a key in other case, null, a number, an escape, a byte outside
// printable ASCII, bad syntax) reports false and writes nothing, and the caller decodes b
// with json.Unmarshal. FuzzDecodeFlatStrings compares the two.
func decodeFlatStrings(b []byte, names []string, dst []*string) bool {
	const maxFields = 4
	if len(names) > maxFields || len(names) != len(dst) {
		return false
	}
	var vals [maxFields][]byte
	var set [maxFields]bool
	i := skipJSONSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipJSONSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			key, next, ok := plainJSONString(b, i)
			if !ok {
				return false
			}
			f := -1
			for j, n := range names {
				if n == string(key) {
					f = j
					break
				}
			}
			if f < 0 {
				return false
			}
			i = skipJSONSpace(b, next)
			if i >= len(b) || b[i] != ':' {
				return false
			}
			val, next, ok := plainJSONString(b, skipJSONSpace(b, i+1))
			if !ok {
				return false
			}
			vals[f], set[f] = val, true
			i = skipJSONSpace(b, next)
			if i >= len(b) {
				return false
			}
			if b[i] == '}' {
				i++
				break
			}
			if b[i] != ',' {
				return false
			}
			i = skipJSONSpace(b, i+1)
		}
	}
	if skipJSONSpace(b, i) != len(b) {
		return false
	}
	for f := range names {
		if set[f] {
			*dst[f] = string(vals[f])
		}
	}
	return true
}

// skipJSONSpace returns the index of the first byte of b at or after i that is not JSON
// whitespace.
func skipJSONSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainJSONString reads the JSON string that starts at b[i] when it holds only printable
// ASCII other than '"' and '\\' (so that its bytes are its value), and returns its content
// and the index after its closing quote.
func plainJSONString(b []byte, i int) (s []byte, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return b[i+1 : j], j + 1, true
		case c < 0x20 || c > 0x7e || c == '\\':
			return nil, 0, false
		}
	}
	return nil, 0, false
}
