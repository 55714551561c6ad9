// Package webhook renders and stores Tencent's third-party callbacks ("webhooks", overview at
// https://www.tencentcloud.com/document/product/647/64412, command list at
// https://www.tencentcloud.com/document/product/647/64413).
//
// # After-callbacks: the transactional outbox
//
// A state change that causes an After-callback (room created, owner changed, …) calls
// Outbox.Enqueue with the same store.Tx as its own writes. Enqueue renders the body once (so
// EventTime and every field are fixed at commit) and inserts an event row, but only when the
// app has a callback URL and the command switched on: events for switched-off commands are
// never stored. So a callback exists if and only if the change that caused it committed. After
// commit the event is handed to the dispatcher (package webhook/dispatcher), which owns the
// delivery states pending → delivered | retrying → … → dead.
//
// # Before-callbacks
//
// Before-callbacks (Group.CallbackBeforeSendMsg, Live.CallbackBeforeSendGift) are sent
// synchronously while the request waits, never retried and never queued; their reply decides
// the operation (Tencent Chat's webhook overview,
// https://www.tencentcloud.com/document/product/1047/34354). Each attempt is still recorded
// in the delivery log.
//
// # One renderer
//
// Render is the only place a body is encoded: it sets the body's CallbackCommand from the
// command the callback is sent under, so a command is named once.
//
// PrepareRequest is the only place that turns a delivery into a request: the configured
// URL plus SdkAppid, CallbackCommand, contenttype=json, ClientIP, OptPlatform and, with a
// token, Sign = hex(SHA-256(token + RequestTime)) and RequestTime; the JSON body; and
// roomd's webhook-id, webhook-timestamp and optional Standard Webhooks webhook-signature
// headers. NewRequest makes an *http.Request of it; the dispatcher's own HTTP/1.1 client
// writes it to plain http:// backends directly.
//
// # Configuration
//
// Configs holds each app's Config behind an atomic pointer for lock-free reads on the hot
// path. Settings implements the v4/live_config APIs: every change is written in a store
// transaction and published to Configs after commit.
package webhook
