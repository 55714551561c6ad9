package rest

import (
	"strconv"
	"sync"
	"time"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/tenant"
)

// limiter enforces Tencent's frequency limits, counted per SDKAppID and per API (REST
// overview, https://www.tencentcloud.com/document/product/647/63398; each API's page gives its limit), with
// one-second fixed windows.
type limiter struct {
	now func() time.Time
	mu  sync.Mutex
	win map[limitKey]*window
}

type limitKey struct {
	app uint64
	api string
}

type window struct {
	second int64
	count  int
}

func newLimiter(now func() time.Time) *limiter {
	return &limiter{now: now, win: map[limitKey]*window{}}
}

// allow counts one call of api by app against its limit (the app's override, else def) and
// returns a 60007 error when the limit is exceeded. A limit <= 0 means unlimited.
func (l *limiter) allow(app *tenant.App, api string, def int) error {
	if !app.RateLimitEnabled {
		return nil
	}
	limit := def
	if v, ok := app.RateLimits[api]; ok {
		limit = v
	}
	if limit <= 0 {
		return nil
	}
	sec := l.now().Unix()
	l.mu.Lock()
	defer l.mu.Unlock()
	k := limitKey{app.ID, api}
	w := l.win[k]
	if w == nil {
		w = &window{}
		l.win[k] = w
	}
	if w.second != sec {
		w.second, w.count = sec, 0
	}
	if w.count >= limit {
		return errcode.New(errcode.APIFrequency, api+" is limited to "+strconv.Itoa(limit)+" requests per second per SDKAppID")
	}
	w.count++
	return nil
}
