package app

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomd/roomd/internal/webhook"
)

// cmdReceive runs a minimal App backend: it prints every callback it gets (query and body)
// and answers OK, so a newcomer can watch roomd's callbacks arrive.
func cmdReceive(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("receive", env)
	listen := fs.String("listen", "127.0.0.1:9000", "listen address")
	token := fs.String("token", "", "callback token: check Sign and RequestTime of every request")
	failFirst := fs.Int("fail-first", 0, "answer HTTP 500 to the first N requests (to watch retries)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *listen, err)
	}
	var (
		mu    sync.Mutex
		count atomic.Int64
	)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := count.Add(1)
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		verdict := "OK"
		status := http.StatusOK
		q := r.URL.Query()
		if *token != "" {
			if err := checkSign(*token, q.Get("Sign"), q.Get("RequestTime"), time.Now()); err != nil {
				verdict, status = "REJECTED: "+err.Error(), http.StatusUnauthorized
			}
		}
		if int(n) <= *failFirst {
			verdict, status = "answering 500 (--fail-first)", http.StatusInternalServerError
		}
		mu.Lock()
		fmt.Fprintf(env.Stdout, "#%d %s %s %s\n  query: %s\n  webhook-id: %s\n  body: %s\n  -> %s\n",
			n, time.Now().Format(time.RFC3339Nano), r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("webhook-id"), body, verdict)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if status == http.StatusOK {
			json.NewEncoder(w).Encode(map[string]any{"ActionStatus": "OK", "ErrorInfo": "", "ErrorCode": 0})
		} else {
			json.NewEncoder(w).Encode(map[string]any{"ActionStatus": "FAIL", "ErrorInfo": verdict, "ErrorCode": 1})
		}
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

// checkSign verifies Tencent's callback signature and the 60-second replay window.
func checkSign(token, sign, requestTime string, now time.Time) error {
	t, err := strconv.ParseInt(requestTime, 10, 64)
	if err != nil {
		return errors.New("RequestTime missing or not a number")
	}
	if d := now.Unix() - t; d > 60 || d < -60 {
		return errors.New("RequestTime is more than 60 s away")
	}
	want := webhook.Sign(token, t)
	if subtle.ConstantTimeCompare([]byte(want), []byte(sign)) != 1 {
		return errors.New("Sign does not match")
	}
	return nil
}
