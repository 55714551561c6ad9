package app_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/app"
	"github.com/roomd/roomd/internal/config"
)

// The room quota and its threshold callback, the per-API rate limits, create_room's
// once-per-second rule, and HTTPS (issue 4, part A).

func TestPartARoomQuotaThreshold(t *testing.T) {
	e := startPA(t, withRoomQuota(10))
	thresholds := func() int { return len(e.events(cmdThreshold)) }
	// 6 of 10 rooms is under 70 %: no alert.
	for i := range 6 {
		e.create(map[string]any{"RoomId": fmt.Sprintf("q%d", i)})
	}
	if n := thresholds(); n != 0 {
		t.Fatalf("%d threshold callbacks below 70 %%", n)
	}
	// The 7th room reaches 70 %, and every creation above it alerts again.
	for i := 6; i < 10; i++ {
		e.create(map[string]any{"RoomId": fmt.Sprintf("q%d", i)})
		if n := thresholds(); n != i-5 {
			t.Fatalf("after room %d: %d threshold callbacks, want %d", i+1, n, i-5)
		}
	}
	e.runCases(t, "create_room", []string{"q0"}, []confCase{
		{name: "beyond the quota", body: `{"RoomInfo":{"RoomId":"q10","RoomType":"Live"}}`, code: 100007},
	})
	// Room ids are released with their room: after a destroy there is room for one more.
	mustOK(t, e.call(svc+"destroy_room", `{"RoomId":"q0"}`))
	e.create(map[string]any{"RoomId": "q10"})
	evs := e.events(cmdThreshold)
	if len(evs) != 5 || !strings.Contains(string(evs[4].Body), `"CurRoomCount":10,"MaxRoomCount":10`) {
		t.Errorf("threshold callbacks %d, last %s", len(evs), evs[len(evs)-1].Body)
	}
	// The callback of the 7th room follows that room's create callback (same ordering key).
	first := e.callbackWith(t, cmdThreshold, `"CurRoomCount":7`)
	e.golden(t, "room_threshold_callback", renderCallbacks([]callbackRequest{first}))
	var createAt, thresholdAt int = -1, -1
	for i, r := range e.rc.requests() {
		if r.Command == cmdCreate && strings.Contains(string(r.Body), `"RoomId":"q6"`) {
			createAt = i
		}
		if r.Command == cmdThreshold && strings.Contains(string(r.Body), `"CurRoomCount":7`) {
			thresholdAt = i
		}
	}
	if createAt < 0 || thresholdAt < createAt {
		t.Errorf("create of q6 at %d, its threshold callback at %d", createAt, thresholdAt)
	}
}

func TestPartANoQuotaNoThreshold(t *testing.T) {
	e := startPA(t)
	for i := range 12 {
		e.create(map[string]any{"RoomId": fmt.Sprintf("r%d", i)})
	}
	if n := len(e.events(cmdThreshold)); n != 0 {
		t.Errorf("%d threshold callbacks without a quota", n)
	}
}

func TestPartARateLimits(t *testing.T) {
	e := startPA(t, withRateLimits(map[string]int{"live_engine_http_srv/get_robot": 2}))
	// The clock stands still, so every call falls in one window. An empty body is rejected
	// after the limiter counted the call, which keeps the test fast.
	for _, c := range []struct {
		api   string
		limit int
	}{
		{"get_room_list", 10},
		{"get_room_stats", 100},
		{"get_room_statistic", 100},
		{"add_robot", 100},
		{"del_robot", 100},
		{"get_robot", 2}, // the app's override
		{"update_room_info", 200},
		{"set_room_metadata", 200},
		{"get_room_metadata", 200},
		{"del_room_metadata", 200},
	} {
		t.Run(c.api, func(t *testing.T) {
			for i := range c.limit {
				if env := e.call(svc+c.api, `{}`); env.ErrorCode == 60007 {
					t.Fatalf("call %d of %d limited: %s", i+1, c.limit, env.Raw)
				}
			}
			mustFail(t, e.call(svc+c.api, `{}`), 60007)
		})
	}
	// The next second opens a new window.
	e.clk.Advance(time.Second)
	if env := e.call(svc+"get_room_list", `{}`); env.ErrorCode != 0 {
		t.Errorf("after a second: %s", env.Raw)
	}
}

func TestPartARateLimitsOff(t *testing.T) {
	e := startPA(t) // the test apps run with rate_limit: {enabled: false}
	for i := range 30 {
		mustOK(t, e.call(svc+"get_room_list", `{}`))
		if i < 3 {
			mustOK(t, e.call(svc+"create_room", `{"RoomInfo":{"RoomId":"same","RoomType":"Live"}}`))
			mustOK(t, e.call(svc+"destroy_room", `{"RoomId":"same"}`))
		}
	}
}

func TestPartACreateSameRoomIDWithinASecond(t *testing.T) {
	e := startPA(t, withRateLimits(nil))
	e.importAccounts("anchor1")
	create := `{"RoomInfo":{"RoomId":"r1","RoomType":"Live","Owner_Account":"anchor1"}}`
	mustOK(t, e.call(svc+"create_room", create))
	e.runCases(t, "create_room", []string{"r1"}, []confCase{
		{name: "again at once", body: create, code: 100012},
	})
	e.clk.Advance(999 * time.Millisecond)
	mustFail(t, e.call(svc+"create_room", create), 100012)
	e.clk.Advance(time.Millisecond)
	mustFail(t, e.call(svc+"create_room", create), 100010) // a second later: the room exists
	// Destroyed and created again within a second of the last creation.
	mustOK(t, e.call(svc+"destroy_room", `{"RoomId":"r1"}`))
	mustOK(t, e.call(svc+"create_room", create))
	mustOK(t, e.call(svc+"destroy_room", `{"RoomId":"r1"}`))
	e.runCases(t, "create_room", nil, []confCase{
		{name: "re-created within a second", body: create, code: 100012},
	})
	// Other room ids are not held.
	mustOK(t, e.call(svc+"create_room", `{"RoomInfo":{"RoomId":"r2","RoomType":"Live"}}`))
	// A failed creation does not hold its id.
	mustFail(t, e.call(svc+"create_room", `{"RoomInfo":{"RoomId":"r3","RoomType":"Live","Owner_Account":"ghost"}}`), 70107)
	mustOK(t, e.call(svc+"create_room", `{"RoomInfo":{"RoomId":"r3","RoomType":"Live"}}`))
}

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key to dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "roomd test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestPartAHTTPS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	ts := startServer(t, app.Options{}, func(c *config.Config) { c.TLSCert, c.TLSKey = certFile, keyFile })
	if !strings.HasPrefix(ts.Base, "https://") {
		t.Fatalf("server URL %s is not https", ts.Base)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()
	post := func(api, body string) envelope {
		t.Helper()
		url := ts.Base + "/v4/" + api + "?sdkappid=" + itoa(testApp) + "&identifier=" + testAdmin + "&usersig=" + ts.sig + "&random=7&contenttype=json"
		resp, err := client.Post(url, "application/json", bytes.NewReader([]byte(body)))
		if err != nil {
			t.Fatalf("POST %s over TLS: %v", api, err)
		}
		defer resp.Body.Close()
		if resp.TLS == nil {
			t.Fatal("reply not over TLS")
		}
		raw, _ := io.ReadAll(resp.Body)
		var env envelope
		if err := json.Unmarshal(raw, &env); err != nil {
			t.Fatalf("reply %q", raw)
		}
		env.Raw = raw
		return env
	}
	mustOK(t, post(svc+"create_room", `{"RoomInfo":{"RoomId":"tls-room","RoomType":"Live"}}`))
	env := mustOK(t, post(svc+"get_room_list", `{"Next":"","Count":20}`))
	if !strings.Contains(string(env.Response), `"RoomId":"tls-room"`) {
		t.Errorf("room list over TLS: %s", env.Response)
	}
	// A client that does not trust the certificate is refused the handshake.
	_, err := http.Post(ts.Base+"/v4/"+svc+"get_room_list", "application/json", strings.NewReader(`{}`))
	if err == nil {
		t.Error("an untrusted client completed the TLS handshake")
	}
	// Plain HTTP on the TLS port gets no API answer.
	resp, err := http.Post(strings.Replace(ts.Base, "https://", "http://", 1)+"/v4/"+svc+"get_room_list", "application/json", strings.NewReader(`{}`))
	if err == nil {
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("plain HTTP on the TLS port answered 200: %s", raw)
		}
	}
}
