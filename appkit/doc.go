// Package appkit is a receiver kit for App backends of roomd and of Tencent TUILiveKit: it
// turns a callback request into a typed event, verifies that it comes from the Live backend,
// drops redeliveries and writes Tencent's reply.
//
// A callback is an HTTP POST whose query string carries SdkAppid, CallbackCommand,
// contenttype, ClientIP, OptPlatform and, when a callback token is enabled, Sign and
// RequestTime; its body is one JSON object. roomd adds the Standard Webhooks headers
// webhook-id and webhook-timestamp to every request, and webhook-signature when the app has
// a signing secret (https://www.standardwebhooks.com/).
//
// The pieces can be used alone or together:
//
//   - [Parse] reads a request into a [Request] whose Event is a pointer to the body struct
//     of its command ([ChangeOwner], [BeforeSendMsg], …); [ParseBody] decodes a body alone.
//   - [Verifier] checks SdkAppid, Tencent's Sign/RequestTime (hex SHA-256 of token and
//     request time, within a clock-skew window) and the Standard Webhooks signature (within
//     a timestamp tolerance), each only when configured.
//   - [Deduper] is the App backend's memory of handled webhook-ids; [MemoryDeduper] keeps
//     them in memory for a while.
//   - [Reply] and [WriteReply] write Tencent's answer: ActionStatus, ErrorCode, ErrorInfo,
//     and for Group.CallbackBeforeSendMsg a replacement MsgBody and CloudCustomData.
//   - [Handler] is an http.Handler that does all of the above and calls one function per
//     command.
//
// The package depends on the standard library only; it does not import roomd.
//
// # Replies and retries
//
// roomd counts an After-callback as delivered when the App backend answers HTTP 200 with a
// JSON object, whatever its ErrorCode; anything else is retried (when the app's retry
// policy is on) with the same webhook-id. Handler therefore answers 200 when a handler
// returns nil or a [Permanent] error, and HTTP 500 for any other error, so that the event
// comes again. A Before-callback is never retried: an error there is "no valid reply", and
// the Live backend applies its failure policy (a gift is refused, a message is sent).
package appkit
