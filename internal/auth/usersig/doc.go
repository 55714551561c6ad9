// Package usersig signs, parses and verifies Tencent "UserSig" tickets of the HMAC-SHA256
// ("v2") scheme, as issued by Tencent's tls-sig-api-v2 libraries and accepted by the
// TUILiveKit, TRTC and Chat (IM) services.
//
// # Format
//
// A UserSig is a small JSON document that has been zlib-compressed and then Base64-encoded.
// The JSON object carries the keys "TLS.ver" (the string "2.0"), "TLS.identifier" (the
// UserID), "TLS.sdkappid", "TLS.expire" (the lifetime in seconds) and "TLS.time" (the issue
// time in Unix seconds), an optional "TLS.userbuf" (the standard Base64 of a binary buffer,
// used by PrivateMapKey tickets) and "TLS.sig" (the standard Base64 of a 32-byte
// HMAC-SHA256). Decode requires the identifier, SDKAppID, expire, time and sig. The three
// numeric fields must be non-negative JSON integers written without a fraction or an
// exponent, the other fields must be strings, "TLS.userbuf" and "TLS.sig" must hold
// canonical padded standard Base64 (32 bytes for the sig), and none of these keys may
// appear twice. Unknown keys are ignored. "TLS.ver" is optional and is not compared with
// "2.0", because the reference verifier does not check it either.
//
// The HMAC is keyed with the UTF-8 bytes of the application's secret key string (not its
// hex decoding) and covers this content string, in which every line, including the last,
// ends with a newline and "time" comes before "expire":
//
//	TLS.identifier:{identifier}
//	TLS.sdkappid:{sdkappid}
//	TLS.time:{time}
//	TLS.expire:{expire}
//	TLS.userbuf:{standard Base64 of userbuf}   (only when a userbuf is present)
//
// The JSON bytes are wrapped in an RFC 1950 zlib stream at any compression level, and the
// stream is encoded with standard Base64, after which '+' becomes '*', '/' becomes '-' and
// '=' becomes '_'. The result contains only URL-safe characters. Decode accepts padded and
// unpadded input, inflates any zlib compression level, and also tolerates the unsubstituted
// characters '+', '/' and '='. It rejects tickets longer than MaxLen characters, documents
// that inflate to more than MaxDocumentLen bytes, and trailing bytes after the zlib stream.
//
// # Verification order
//
// Verify and VerifyWithUserBuf run the checks in the order of Tencent's reference verifier,
// and the first failing check decides the error:
//
//  1. An empty ticket fails with ErrEmpty (Tencent code 70002).
//  2. A ticket that cannot be decoded fails with ErrMalformed (70003).
//  3. A different SDKAppID fails with ErrAppIDMismatch (70014).
//  4. A different identifier, compared as exact strings, fails with ErrIdentifierMismatch
//     (70013).
//  5. A ticket whose time+expire lies before now fails with ErrExpired (70001). A ticket is
//     still valid during the second time+expire itself.
//  6. A userbuf whose presence or content differs from the expectation fails with
//     ErrUserBufMismatch, which callers report as 70009.
//  7. A signature that differs from the HMAC recomputed from the decoded fields, compared
//     in constant time, fails with ErrSignatureMismatch (70009).
//
// Every returned error wraps exactly one of these sentinels, so callers map failures to
// Tencent codes with errors.Is. All functions take the current time as an argument so that
// tests can pin the clock.
//
// Verifier adds a bounded cache of successful verifications on top of Verify, for
// administrators that present the same UserSig on every REST call.
package usersig
