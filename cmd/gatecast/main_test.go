package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"
)

// The test binary doubles as the gatecast binary: with GATECAST_RUN_MAIN
// set it runs main, so the end-to-end tests start the real program without
// a separate build step.
func TestMain(m *testing.M) {
	if os.Getenv("GATECAST_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// proc is a running gatecast process.
type proc struct {
	cmd   *exec.Cmd
	ws    string // ws://host:port/
	admin string // http://host:port
	done  chan error
}

// startGatecast runs "gatecast serve args..." through shell (which may set
// limits first) and waits for its "listening" log line.
func startGatecast(t *testing.T, shellPrefix string, args ...string) *proc {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	line := shellPrefix + " exec " + shellQuote(self) + " serve"
	// Tests run in parallel with other packages: never take the default
	// NATS port.
	args = append([]string{"--nats-listen", "off"}, args...)
	for _, a := range args {
		line += " " + shellQuote(a)
	}
	cmd := exec.Command("/bin/sh", "-c", line)
	cmd.Env = append(os.Environ(), "GATECAST_RUN_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, done: make(chan error, 1)}
	addrs := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var rec struct {
				Msg       string `json:"msg"`
				WebSocket string `json:"websocket"`
				Admin     string `json:"admin"`
			}
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "gatecast listening" {
				addrs <- [2]string{rec.WebSocket, rec.Admin}
			}
		}
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
	})
	select {
	case a := <-addrs:
		p.ws, p.admin = a[0], "http://"+a[1]
	case err := <-p.done:
		t.Fatalf("gatecast exited before listening: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("gatecast did not start listening within 20s")
	}
	return p
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// stop sends SIGTERM and returns the exit error.
func (p *proc) stop(t *testing.T) error {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("gatecast did not exit within 20s of SIGTERM")
		return nil
	}
}

func TestEndToEndEcho(t *testing.T) {
	p := startGatecast(t, "", "--config", "../../examples/echo.yaml", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	t.Run("client=coder", func(t *testing.T) {
		c, _, err := websocket.Dial(ctx, p.ws, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		c.SetReadLimit(1 << 20)
		for _, size := range []int{0, 1, 125, 126, 127, 1000, 4096, 65535 / 2, 32 << 10} {
			for _, typ := range []websocket.MessageType{websocket.MessageText, websocket.MessageBinary} {
				msg := bytes.Repeat([]byte{'x'}, size)
				if err := c.Write(ctx, typ, msg); err != nil {
					t.Fatalf("write %d: %v", size, err)
				}
				gotTyp, got, err := c.Read(ctx)
				if err != nil || gotTyp != typ || !bytes.Equal(got, msg) {
					t.Fatalf("size %d: got %v len %d err %v", size, gotTyp, len(got), err)
				}
			}
		}
		// One frame over the 32 KiB frame limit closes with 1009.
		if err := c.Write(ctx, websocket.MessageBinary, make([]byte, 32<<10+1)); err != nil {
			t.Fatal(err)
		}
		_, _, err = c.Read(ctx)
		if got := websocket.CloseStatus(err); got != websocket.StatusMessageTooBig {
			t.Fatalf("oversized frame: close status %v (err %v), want 1009", got, err)
		}
	})

	t.Run("client=gorilla/fragmented", func(t *testing.T) {
		// gorilla splits a message into frames of its write buffer size,
		// so large messages arrive fragmented.
		d := gorilla.Dialer{WriteBufferSize: 4096, ReadBufferSize: 4096}
		c, _, err := d.Dial(p.ws, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for _, size := range []int{5000, 64 << 10, 128 << 10} {
			msg := []byte(strings.Repeat("é", size/2)) // multi-byte UTF-8 cut across frames
			if err := c.WriteMessage(gorilla.TextMessage, msg); err != nil {
				t.Fatal(err)
			}
			_, got, err := c.ReadMessage()
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("size %d: len %d err %v", size, len(got), err)
			}
		}
		if err := c.WriteMessage(gorilla.BinaryMessage, make([]byte, 128<<10+1)); err != nil {
			t.Fatal(err)
		}
		_, _, err = c.ReadMessage()
		if !gorilla.IsCloseError(err, gorilla.CloseMessageTooBig) {
			t.Fatalf("oversized message: %v, want close 1009", err)
		}
	})

	t.Run("sigterm", func(t *testing.T) {
		c, _, err := gorilla.DefaultDialer.Dial(p.ws, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		got := make(chan error, 1)
		go func() {
			_, _, err := c.ReadMessage()
			got <- err
		}()
		if err := p.stop(t); err != nil {
			t.Fatalf("exit after SIGTERM: %v, want status 0", err)
		}
		if err := <-got; !gorilla.IsCloseError(err, gorilla.CloseGoingAway) {
			t.Fatalf("client saw %v, want close 1001", err)
		}
	})
}

// TestEndToEndFDLimit runs the server with a hard limit of 64 descriptors
// and opens more connections than that: the excess is refused at once, the
// server does not crash or spin, and the connections it holds keep working.
func TestEndToEndFDLimit(t *testing.T) {
	p := startGatecast(t, "ulimit -n 64 &&", "--config", "../../examples/echo.yaml", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0")
	var held []*gorilla.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	refused := 0
	for i := 0; i < 120; i++ {
		d := gorilla.Dialer{HandshakeTimeout: 5 * time.Second}
		c, _, err := d.Dial(p.ws, nil)
		if err != nil {
			refused++
			continue
		}
		held = append(held, c)
	}
	if refused == 0 || len(held) == 0 {
		t.Fatalf("held %d, refused %d: want some of each", len(held), refused)
	}
	for i, c := range held {
		msg := fmt.Appendf(nil, "still here %d", i)
		if err := c.WriteMessage(gorilla.TextMessage, msg); err != nil {
			t.Fatalf("conn %d write: %v", i, err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, got, err := c.ReadMessage(); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("conn %d echo: %q %v", i, got, err)
		}
	}
	// The admin listener still answers: the socket cap keeps descriptors
	// in reserve for it.
	metrics := get(t, p.admin+"/metrics")
	if !strings.Contains(metrics, `gatecast_websocket_refused_total{reason="max_sockets"}`) ||
		strings.Contains(metrics, `gatecast_websocket_refused_total{reason="max_sockets"} 0`) {
		t.Fatalf("metrics do not count the refusals:\n%s", grep(metrics, "refused"))
	}
	// Releasing descriptors lets new connections in again.
	for _, c := range held[:10] {
		c.Close()
	}
	held = held[10:]
	var c *gorilla.Conn
	deadline := time.Now().Add(10 * time.Second)
	for c == nil {
		var err error
		if c, _, err = gorilla.DefaultDialer.Dial(p.ws, nil); err != nil && time.Now().After(deadline) {
			t.Fatalf("no connection accepted after descriptors were freed: %v", err)
		}
	}
	held = append(held, c)
	if err := p.stop(t); err != nil {
		t.Fatalf("exit: %v", err)
	}
}

func TestConnectCommand(t *testing.T) {
	p := startGatecast(t, "", "--config", "../../examples/echo.yaml", "--listen", "127.0.0.1:0", "--admin-listen", "off")
	self, _ := os.Executable()
	cmd := exec.Command(self, "connect", "--wait", "5s", p.ws)
	cmd.Env = append(os.Environ(), "GATECAST_RUN_MAIN=1")
	cmd.Stdin = strings.NewReader("hello\nworld\n")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	var got []string
	for len(got) < 2 && sc.Scan() {
		got = append(got, sc.Text())
	}
	cmd.Process.Kill()
	cmd.Wait()
	if strings.Join(got, ",") != "hello,world" {
		t.Fatalf("connect printed %q, want hello and world echoed", got)
	}
}

func TestServeRejectsBadConfig(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/bad.yaml"
	os.WriteFile(path, []byte("listen: 127.0.0.1:0\nwebsokcet:\n  path: /\n"), 0o600)
	self, _ := os.Executable()
	cmd := exec.Command(self, "serve", "--config", path)
	cmd.Env = append(os.Environ(), "GATECAST_RUN_MAIN=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("exit %v, want status 2; output:\n%s", err, out)
	}
	if !strings.Contains(string(out), "line 2") || !strings.Contains(string(out), "websokcet") {
		t.Fatalf("error does not name the unknown key and its line:\n%s", out)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func grep(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
