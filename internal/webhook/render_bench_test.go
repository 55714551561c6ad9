package webhook_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/webhook"
)

// BenchmarkRenderChangeOwner measures what every Live.CallbackAfterChangeOwner costs to
// render: its JSON body (once, when it is stored in the outbox) and its HTTP request (on
// every attempt), with and without the token and the Standard Webhooks signature.
func BenchmarkRenderChangeOwner(b *testing.B) {
	body := webhook.ChangeOwner{CallbackCommand: webhook.AfterChangeOwner, RoomId: "room-000123",
		EventTime: 1764190000123, Operator_Account: "administrator",
		CurrentOwner_Account: "owner-1", OriginalOwner_Account: "owner-0"}
	b.Run("body", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("render", func(b *testing.B) {
		// What Outbox.Enqueue makes of it: the wire JSON, CallbackCommand set by Render.
		b.ReportAllocs()
		for b.Loop() {
			if _, err := webhook.Render(webhook.AfterChangeOwner, body); err != nil {
				b.Fatal(err)
			}
		}
	})
	raw, _ := json.Marshal(body)
	d := webhook.Delivery{ID: "msg_0123456789ab_42", App: 1400000000, Command: webhook.AfterChangeOwner,
		Body: raw, ClientIP: "127.0.0.1", Platform: webhook.PlatformRESTAPI}
	now := time.Unix(1764190000, 0)
	for _, c := range []struct {
		name string
		cfg  webhook.Config
	}{
		{"request", webhook.Config{URL: "http://127.0.0.1:9000/callback"}},
		{"request+token+signature", webhook.Config{URL: "http://127.0.0.1:9000/callback", Token: "xxxxyyyy", TokenEnabled: true,
			SigningSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
	} {
		b.Run("prepare-"+c.name, func(b *testing.B) {
			// The direct path's rendering: no http.Request.
			b.ReportAllocs()
			for b.Loop() {
				r := webhook.PrepareRequest(&c.cfg, d, now)
				_ = r.RecordedHeaders()
			}
		})
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := webhook.NewRequest(ctx, &c.cfg, d, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
