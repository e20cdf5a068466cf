package conn_test

import (
	"bufio"
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/gobwas/ws"

	"github.com/gatecast/gatecast/conn"
)

// TestTLSOpenSSL runs wss:// against OpenSSL's client, another TLS
// implementation than the one whose handshake gatecast uses: each TLS 1.3
// cipher suite (crypto/tls picks AES-128-GCM with Go clients, so this is
// where AES-256-GCM and ChaCha20-Poly1305 meet a real peer), and key
// updates the client starts, asking gatecast to update too (K) and not
// (k). Skipped without the openssl command; .ci/run installs it.
func TestTLSOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed: the OpenSSL interop test is skipped")
	}
	scfg, _ := testTLS(t)
	srv := startServer(t, conn.Config{TLS: scfg}, &testHandler{})
	for _, suite := range []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"} {
		t.Run(suite, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, openssl, "s_client", "-connect", srv.Addr().String(),
				"-tls1_3", "-ciphersuites", suite, "-servername", "localhost")
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// openssl says KEYUPDATE on stderr when it takes the command.
			keyUpdates := make(chan struct{}, 2)
			stderrDone := make(chan struct{})
			go func() {
				defer close(stderrDone)
				sc := bufio.NewScanner(stderr)
				for sc.Scan() {
					if strings.Contains(sc.Text(), "KEYUPDATE") {
						keyUpdates <- struct{}{}
					}
				}
			}()
			defer func() {
				stdin.Close()
				<-stderrDone // the process ended (or ctx killed it)
				cmd.Wait()
			}()
			out := &outputScanner{t: t, r: bufio.NewReader(stdout)}

			stdin.Write([]byte(upgradeRequest("/")))
			out.expect([]byte("Cipher is " + suite)) // the session summary, before any data
			out.expect([]byte("HTTP/1.1 101"))
			out.expect([]byte("\r\n\r\n"))
			echo := func(msg string) {
				stdin.Write(maskedFrame(ws.OpText, true, []byte(msg)))
				out.expect(append([]byte{0x81, byte(len(msg))}, msg...))
			}
			echo("before any key update")
			for _, cmdLetter := range []string{"K\n", "k\n"} {
				stdin.Write([]byte(cmdLetter))
				select {
				case <-keyUpdates:
				case <-ctx.Done():
					t.Fatalf("openssl did not take the key update command %q", cmdLetter)
				}
				echo("after key update " + cmdLetter[:1])
			}
			if st := srv.Stats(); st.TLSStayed != 0 || st.TLSErrors != 0 {
				t.Fatalf("TLSStayed %d, TLSErrors %d, want 0", st.TLSStayed, st.TLSErrors)
			}
		})
	}
}

// outputScanner reads a process's output until expected bytes appear.
type outputScanner struct {
	t    *testing.T
	r    *bufio.Reader
	seen []byte
}

func (s *outputScanner) expect(want []byte) {
	s.t.Helper()
	for {
		if i := bytes.Index(s.seen, want); i >= 0 {
			s.seen = s.seen[i+len(want):]
			return
		}
		b, err := s.r.ReadByte()
		if err != nil {
			s.t.Fatalf("output ended (%v) before %q; the last of it: %q", err, want, tail(s.seen, 300))
		}
		s.seen = append(s.seen, b)
	}
}

func tail(b []byte, n int) []byte { return b[max(0, len(b)-n):] }
