package webhook

import "github.com/roomd/roomd/internal/errcode"

// Errors of the delivery log (the roomd_delivery APIs). Each is a request naming an event
// that cannot be used that way, so each answers the API family's invalid-parameter code
// (100002); their texts carry no "invalid parameter: " prefix.
var (
	// ErrEventNotFound: no event with that id belongs to the app.
	ErrEventNotFound = errcode.InvalidBare("", "event does not exist")
	// ErrEventUndelivered: the event is still pending or retrying, so it cannot be resent.
	ErrEventUndelivered = errcode.InvalidBare("", "event is still being delivered")
	// ErrEventNotResendable: the event is the record of a Before-callback, whose reply
	// decided an operation that is over; sending it again would mean nothing.
	ErrEventNotResendable = errcode.InvalidBare("", "a Before-callback cannot be resent")
)
