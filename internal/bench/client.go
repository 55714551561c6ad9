package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// newHTTPClient returns the keep-alive client of every bench load generator: one idle
// connection per concurrent caller, so that no request pays for a new connection.
func newHTTPClient(conns int) *http.Client {
	t := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}

// restClient calls roomd's admin REST API as the bench app's admin. With several nodes
// it sends its calls to each in turn.
type restClient struct {
	http     *http.Client
	prefixes []string // base + "/v4/", one per node
	next     atomic.Uint64
	query    string // "?sdkappid=…&identifier=…&usersig=…&random="
	bufs     sync.Pool
}

func newRESTClient(hc *http.Client, bases []string, app uint64, admin, sig string) *restClient {
	c := &restClient{
		http:  hc,
		query: "?sdkappid=" + strconv.FormatUint(app, 10) + "&identifier=" + admin + "&usersig=" + sig + "&contenttype=json&random=",
	}
	for _, b := range bases {
		c.prefixes = append(c.prefixes, b+"/v4/")
	}
	c.bufs.New = func() any { return new(bytes.Buffer) }
	return c
}

// envelopeError is a REST call answered with ActionStatus FAIL.
type envelopeError struct {
	Code int
	Info string
}

func (e *envelopeError) Error() string { return fmt.Sprintf("error %d: %s", e.Code, e.Info) }

var okPrefix = []byte(`{"ActionStatus":"OK","ErrorCode":0,`)

// call POSTs body to /v4/api and returns an error unless roomd answered OK.
func (c *restClient) call(ctx context.Context, api string, body []byte) error {
	prefix := c.prefixes[0]
	if len(c.prefixes) > 1 {
		prefix = c.prefixes[c.next.Add(1)%uint64(len(c.prefixes))]
	}
	url := prefix + api + c.query + strconv.FormatUint(uint64(rand.Uint32()), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	buf := c.bufs.Get().(*bytes.Buffer)
	defer c.bufs.Put(buf)
	buf.Reset()
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, 1<<20)); err != nil {
		return fmt.Errorf("%s: read reply: %w", api, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d", api, resp.StatusCode)
	}
	if bytes.HasPrefix(buf.Bytes(), okPrefix) {
		return nil
	}
	var env struct {
		ActionStatus string
		ErrorCode    int
		ErrorInfo    string
	}
	if err := json.Unmarshal(buf.Bytes(), &env); err != nil {
		return fmt.Errorf("%s: reply is not JSON: %.200s", api, buf.Bytes())
	}
	if env.ActionStatus == "OK" && env.ErrorCode == 0 {
		return nil
	}
	return fmt.Errorf("%s: %w", api, &envelopeError{env.ErrorCode, env.ErrorInfo})
}

// importAccounts imports users with multiaccount_import, 100 per call.
func (c *restClient) importAccounts(ctx context.Context, users []string) error {
	for len(users) > 0 {
		n := min(len(users), 100)
		type item struct{ UserID string }
		list := make([]item, n)
		for i, u := range users[:n] {
			list[i] = item{u}
		}
		body, _ := json.Marshal(map[string]any{"AccountList": list})
		if err := c.call(ctx, "im_open_login_svc/multiaccount_import", body); err != nil {
			return err
		}
		users = users[n:]
	}
	return nil
}

// createRoomBody is the body of create_room for a Live room with the given owner.
func createRoomBody(dst []byte, id, owner string) []byte {
	dst = append(dst, `{"RoomInfo":{"RoomId":`...)
	dst = strconv.AppendQuote(dst, id)
	dst = append(dst, `,"RoomType":"Live","Owner_Account":`...)
	dst = strconv.AppendQuote(dst, owner)
	return append(dst, `}}`...)
}

// changeOwnerBody is the body of change_room_owner.
func changeOwnerRequest(dst []byte, id, owner string) []byte {
	dst = append(dst, `{"RoomId":`...)
	dst = strconv.AppendQuote(dst, id)
	dst = append(dst, `,"NewOwner_Account":`...)
	dst = strconv.AppendQuote(dst, owner)
	return append(dst, '}')
}

// createRooms creates the rooms with conc concurrent callers, each owned by owner, and
// records each call's latency in h when h is not nil.
func (c *restClient) createRooms(ctx context.Context, conc int, rooms []string, owner string, h *histogram) error {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	next := make(chan string)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var body []byte
			for id := range next {
				body = createRoomBody(body[:0], id, owner)
				start := time.Now()
				err := c.call(ctx, "live_engine_http_srv/create_room", body)
				if h != nil {
					h.Record(time.Since(start))
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("create room %s: %w", id, err)
					}
					mu.Unlock()
				}
			}
		}()
	}
feed:
	for _, id := range rooms {
		select {
		case next <- id:
		case <-ctx.Done():
			break feed
		}
		mu.Lock()
		stop := firstErr != nil
		mu.Unlock()
		if stop {
			break
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}
