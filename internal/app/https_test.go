package app_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
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
	"github.com/roomd/roomd/internal/testkit"
)

// HTTPS: roomd serving the REST API with a certificate and key from the configuration.

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

func TestHTTPS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	ts := startServer(t, app.Options{}, func(c *config.Config) { c.TLSCert, c.TLSKey = certFile, keyFile })
	if !strings.HasPrefix(ts.Base, "https://") {
		t.Fatalf("server URL %s is not https", ts.Base)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()
	c := &testkit.Client{Base: ts.Base, App: testApp, Identifier: testAdmin, Sig: ts.sig, HTTP: client}
	post := func(api, body string) envelope {
		t.Helper()
		return c.Do(t, api, body)
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
