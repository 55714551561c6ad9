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
// fixed windows: one second, or the route's window (aligned to multiples of it since the
// Unix epoch).
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
	index int64 // which window: Unix time divided by the window's length
	count int
}

func newLimiter(now func() time.Time) *limiter {
	return &limiter{now: now, win: map[limitKey]*window{}}
}

// allow counts one call of api by app against its route's limit (the app's override of the
// number, else rt.rate, per rt.window or a second) and returns an error with rt.limitCode
// (60007 when 0) when the limit is exceeded. A limit <= 0 means unlimited.
func (l *limiter) allow(app *tenant.App, api string, rt *route) error {
	if !app.RateLimitEnabled {
		return nil
	}
	limit := rt.rate
	if v, ok := app.RateLimits[api]; ok {
		limit = v
	}
	if limit <= 0 {
		return nil
	}
	per := rt.window
	if per <= 0 {
		per = time.Second
	}
	idx := l.now().UnixNano() / int64(per)
	l.mu.Lock()
	defer l.mu.Unlock()
	k := limitKey{app.ID, api}
	w := l.win[k]
	if w == nil {
		w = &window{}
		l.win[k] = w
	}
	if w.index != idx {
		w.index, w.count = idx, 0
	}
	if w.count >= limit {
		code := rt.limitCode
		if code == 0 {
			code = errcode.APIFrequency
		}
		unit := "second"
		if per != time.Second {
			unit = per.String()
		}
		return errcode.New(code, api+" is limited to "+strconv.Itoa(limit)+" requests per "+unit+" per SDKAppID")
	}
	w.count++
	return nil
}
