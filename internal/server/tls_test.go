package server_test

import (
	"context"
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

	"github.com/tollgatehq/tollgate/internal/app"
	"github.com/tollgatehq/tollgate/internal/config"
	"github.com/tollgatehq/tollgate/internal/server"
)

// writeCert generates a self-signed certificate for 127.0.0.1 and writes
// it and its key as PEM files in dir.
func writeCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "tollgate test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "serve.crt"), filepath.Join(dir, "serve.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestServeTLS: with --tls-cert and --tls-key serve speaks HTTPS only; the
// token reaches it encrypted and a cleartext request is refused.
func TestServeTLS(t *testing.T) {
	certFile, keyFile, pool := writeCert(t, t.TempDir())
	s, _ := newServer(t, newSim(t), func(c *config.Config) {
		c.Listen = "127.0.0.1:0"
		c.TLSCert, c.TLSKey = certFile, keyFile
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	baseCh := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, func(base string) { baseCh <- base }) }()
	var base string
	select {
	case base = <-baseCh:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("base URL %q, want https://", base)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, _ := http.NewRequest("GET", base+"/v1/stats", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.TLS == nil {
		t.Fatalf("GET /v1/stats over TLS: %d (tls %v)", res.StatusCode, res.TLS != nil)
	}
	plain, err := http.Get("http://" + strings.TrimPrefix(base, "https://") + "/healthz")
	if err == nil {
		b, _ := io.ReadAll(plain.Body)
		plain.Body.Close()
		if plain.StatusCode == 200 {
			t.Fatalf("a cleartext request was served: %d %s", plain.StatusCode, b)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// TestListenNeedsTLS: a non-loopback --listen without TLS is refused at
// start with an error naming the flags; --insecure-listen or TLS allows it;
// a missing key file is named.
func TestListenNeedsTLS(t *testing.T) {
	certFile, keyFile, _ := writeCert(t, t.TempDir())
	base := func() config.Config {
		c := config.Default()
		c.DataDir, c.Token, c.AWS.Endpoint = t.TempDir(), testToken, "http://connect.sim.local"
		return c
	}
	type step struct {
		name string
		mod  func(*config.Config)
		want string // "" means New succeeds
	}
	for i, st := range []step{
		{"all interfaces", func(c *config.Config) { c.Listen = "0.0.0.0:8787" }, "--insecure-listen"},
		{"empty host", func(c *config.Config) { c.Listen = ":8787" }, "--tls-cert"},
		{"a host name", func(c *config.Config) { c.Listen = "example.internal:8787" }, "not a loopback address"},
		{"insecure-listen", func(c *config.Config) { c.Listen = "0.0.0.0:8787"; c.InsecureListen = true }, ""},
		{"tls", func(c *config.Config) { c.Listen = "0.0.0.0:8787"; c.TLSCert, c.TLSKey = certFile, keyFile }, ""},
		{"localhost", func(c *config.Config) { c.Listen = "localhost:8787" }, ""},
		{"ipv6 loopback", func(c *config.Config) { c.Listen = "[::1]:8787" }, ""},
		{"cert without key", func(c *config.Config) { c.TLSCert = certFile }, "tls_key"},
		{"missing key file", func(c *config.Config) { c.TLSCert, c.TLSKey = certFile, keyFile+".missing" }, "serve.key.missing"},
	} {
		cfg := base()
		st.mod(&cfg)
		s, err := server.New(context.Background(), cfg, app.Options{AWS: staticAWSFor(newSim(t))})
		if err == nil {
			_ = s.App().Close()
		}
		switch {
		case st.want == "" && err != nil:
			t.Errorf("step %d (%s): %v", i, st.name, err)
		case st.want != "" && (err == nil || !strings.Contains(err.Error(), st.want)):
			t.Errorf("step %d (%s): got %v, want an error naming %q", i, st.name, err, st.want)
		}
	}
}
