package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomd/roomd/appkit"
)

// cmdReceive runs a minimal App backend: it prints every callback it gets (query and body)
// and answers OK, so a newcomer can watch roomd's callbacks arrive. It parses and verifies
// with package appkit, the receiver kit App backends use: with --token it checks Sign and
// RequestTime (60 s window), with --signing-secret the Standard Webhooks signature (5 min
// tolerance), with --sdkappid the SdkAppid; a request that fails a check is answered 401.
// A repeated webhook-id is marked as a duplicate and answered OK.
func cmdReceive(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("receive", env)
	listen := fs.String("listen", "127.0.0.1:9000", "listen address")
	token := fs.String("token", "", "callback token: check Sign and RequestTime of every request")
	var secrets []string
	fs.Func("signing-secret", "Standard Webhooks secret (whsec_…): check webhook-signature of every request; repeat during a rotation", func(s string) error {
		if _, err := appkit.SigningKey(s); err != nil {
			return err
		}
		secrets = append(secrets, s)
		return nil
	})
	sdkappid := fs.Uint64("sdkappid", 0, "check that SdkAppid is this app's (0: any)")
	failFirst := fs.Int("fail-first", 0, "answer HTTP 500 to the first N requests (to watch retries)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *listen, err)
	}
	v := &appkit.Verifier{SDKAppID: *sdkappid, SigningSecrets: secrets}
	if *token != "" {
		v.Tokens = []string{*token}
	}
	dedup := appkit.NewMemoryDeduper(appkit.DefaultDedupTTL)
	var (
		mu    sync.Mutex
		count atomic.Int64
	)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := count.Add(1)
		verdict, status := "OK", http.StatusOK
		var body []byte
		req, err := appkit.Parse(r)
		switch {
		case err != nil:
			verdict, status = "REJECTED: "+err.Error(), http.StatusBadRequest
		default:
			body = req.Body
			if err := v.Verify(req); err != nil {
				verdict, status = "REJECTED: "+err.Error(), http.StatusUnauthorized
			}
		}
		if status == http.StatusOK && int(n) <= *failFirst {
			verdict, status = "answering 500 (--fail-first)", http.StatusInternalServerError
		}
		if status == http.StatusOK && req.WebhookID != "" && !appkit.IsBefore(req.Command) {
			if fresh, _ := dedup.Claim(r.Context(), req.WebhookID); !fresh {
				verdict = "OK (duplicate webhook-id)"
			} else {
				dedup.Finish(r.Context(), req.WebhookID, true)
			}
		}
		mu.Lock()
		fmt.Fprintf(env.Stdout, "#%d %s %s %s\n  query: %s\n  webhook-id: %s\n  body: %s\n  -> %s\n",
			n, time.Now().Format(time.RFC3339Nano), r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("webhook-id"), body, verdict)
		mu.Unlock()
		if status == http.StatusOK {
			appkit.WriteReply(w, appkit.Allow())
			return
		}
		reply, _ := json.Marshal(appkit.Reject(verdict))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(reply)
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(env.Stdout, "roomd receive: listening on http://%s — set it as your callback URL\n", ln.Addr())
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
