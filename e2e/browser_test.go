package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/certs"
	"github.com/gatecast/gatecast/gateway"
	"github.com/gatecast/gatecast/protocol"
)

// scheme is how the browser reaches the demo page: over TLS, with a
// self-signed certificate the browser is told to trust (by its public
// key, nothing else); the page dials wss:// by itself.
const scheme = "https"

const (
	// testTimeout bounds the browser's part of the test, which takes a
	// few seconds.
	testTimeout = 60 * time.Second
	// waitTimeout bounds each wait for the page to show something, and
	// for the chat backend to start.
	waitTimeout = 10 * time.Second
	// buildTimeout bounds building the chat backend: about a second with
	// the build cache warm, 20 s on this project's machine with it cold.
	buildTimeout = 3 * time.Minute
)

// TestBrowserChat opens the demo page in two tabs of headless Chromium:
// both join a room and talk, the management API removes the first one's
// connection, and its page shows the close code and reason while the
// second tab goes on talking.
func TestBrowserChat(t *testing.T) {
	chromium := findChromium(t)
	g, spki := startGateway(t)
	startChat(t, g.NATSURL())
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel) // after the browser's cleanup, which closes it gracefully
	browser := startBrowser(t, ctx, chromium, spki)
	pageURL := scheme + "://" + g.Addr().String() + "/"

	ann := openTab(t, browser, "ann", pageURL)
	annID := ann.join("lobby")
	bob := openTab(t, browser, "bob", pageURL)
	bobID := bob.join("lobby")
	if annID == bobID {
		t.Fatalf("both tabs show the connection id %q", annID)
	}
	t.Logf("connection ids: ann %s, bob %s", annID, bobID)
	ann.waitLine("notice", "", "bob joined lobby")

	ann.say("hello from ann")
	bob.waitLine("msg", "ann", "hello from ann")
	bob.say("hello from bob")
	ann.waitLine("msg", "bob", "hello from bob")

	// The management API closes ann's connection; the page says so.
	deleteConnection(t, g, annID, 4000, "removed by the e2e test")
	closed := ann.wait("the close code and reason", `() => document.body.dataset.state === "closed" && document.getElementById("close-info").textContent`)
	if want := `4000 application (e.g. the management API), "removed by the e2e test"`; closed != want {
		t.Errorf("tab ann shows the close as %q, want %q", closed, want)
	}
	ann.waitLine("closed", "", `Disconnected: close `+closed)

	// bob is told, and still talks.
	bob.waitLine("notice", "", "ann left lobby")
	bob.say("still here")

	// Chromium's TLS 1.3 (full-size records, a session ticket) went
	// through gatecast's record layer, page and WebSockets alike.
	if st := g.Stats(); st.TLSStayed != 0 || st.TLSErrors != 0 {
		t.Errorf("TLS 1.3 connections left with crypto/tls: %d, ended by TLS errors: %d; want 0", st.TLSStayed, st.TLSErrors)
	}

	artifacts := artifactDir(t)
	ann.screenshot(filepath.Join(artifacts, "browser-chat-ann-disconnected.png"))
	bob.screenshot(filepath.Join(artifacts, "browser-chat-bob.png"))
}

// findChromium returns the Chromium executable, or skips the test.
func findChromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser end-to-end tests skipped in -short mode")
	}
	for _, name := range []string{"chromium", "/usr/bin/chromium"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	t.Skip("chromium not installed: browser end-to-end tests skipped (apt-get install -y chromium)")
	return ""
}

// startGateway runs a gateway in demo mode over TLS on loopback ports
// chosen by the kernel, with its embedded NATS server listening for the
// chat backend. spki is the certificate's public key hash, for Chromium's
// --ignore-certificate-errors-spki-list.
func startGateway(t *testing.T) (g *gateway.Gateway, spki string) {
	t.Helper()
	var cfg gateway.Config
	certPEM, keyPEM, err := certs.SelfSigned(certs.DefaultHosts, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pair := certs.Pair{CertFile: filepath.Join(dir, "dev.pem"), KeyFile: filepath.Join(dir, "dev.key")}
	if err := errors.Join(os.WriteFile(pair.CertFile, certPEM, 0o644), os.WriteFile(pair.KeyFile, keyPEM, 0o600)); err != nil {
		t.Fatal(err)
	}
	cfg.TLS = &certs.Config{Certificates: []certs.Pair{pair}}
	block, _ := pem.Decode(certPEM)
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	spki = base64.StdEncoding.EncodeToString(sum[:])
	cfg.Listen = "127.0.0.1:0"
	cfg.AdminListen = "127.0.0.1:0"
	cfg.NATS.Listen = "127.0.0.1:0"
	cfg.AccessLog.Output = "off"
	cfg.HTTP.DemoPage = true
	logs := &syncBuffer{}
	g, err = gateway.New(cfg, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		g.Shutdown(context.Background())
		if t.Failed() {
			t.Logf("gateway log:\n%s", logs)
		}
	})
	return g, spki
}

// startChat builds the chat example (package main, so it cannot run in
// process) and runs it against natsURL until the test ends; it returns
// once the backend answers on $default.
func startChat(t *testing.T, natsURL string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "chat")
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	// go test puts its own go first on PATH.
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/gatecast/gatecast/examples/chat")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build examples/chat: %v\n%s", err, out)
	}

	run, stop := context.WithCancel(context.Background())
	cmd := exec.CommandContext(run, bin, "--nats", natsURL)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	// Stopped as by Ctrl-C, so that it drains; killed if it hangs.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		stop()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop()
		if err := cmd.Wait(); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("chat backend: %v", err)
		}
		if t.Failed() {
			t.Logf("chat backend log:\n%s", logs)
		}
	})

	// The backend is ready when its $default handler answers: an unknown
	// action gets the chat's usage and changes nothing.
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	probe := nats.NewMsg("gatecast.default")
	probe.Header.Set(protocol.HeaderEventType, protocol.EventMessage)
	probe.Header.Set(protocol.HeaderConnectionID, "e2e_probe-0000000000000000")
	probe.Header.Set(protocol.HeaderRouteKey, "$default")
	probe.Header.Set(protocol.HeaderMessageType, protocol.MessageText)
	probe.Data = []byte(`{"action":"ready?"}`)
	deadline := time.Now().Add(waitTimeout)
	for {
		_, err := nc.RequestMsg(probe, time.Second)
		switch {
		case err == nil:
			return
		case !errors.Is(err, nats.ErrNoResponders) && !errors.Is(err, nats.ErrTimeout):
			t.Fatalf("probing the chat backend: %v", err)
		case time.Now().After(deadline):
			t.Fatalf("the chat backend did not answer within %v: %v\n%s", waitTimeout, err, logs)
		}
		time.Sleep(20 * time.Millisecond) // no responders comes back at once
	}
}

// startBrowser starts headless Chromium with a fresh profile and returns
// its context; the browser closes when the test ends.
func startBrowser(t *testing.T, ctx context.Context, chromium, spki string) context.Context {
	t.Helper()
	// Made before the browser's cleanup, so removed after the browser exits.
	profile := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(profile),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.WindowSize(1000, 900),
		// No traffic but the test's own: the machine has no network.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Trust the test's self-signed certificate, by its key only.
		chromedp.Flag("ignore-certificate-errors-spki-list", spki),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		chromedp.Cancel(browser) // closes the browser and waits for it
		cancelBrowser()
		cancelAlloc()
	})
	if err := chromedp.Do(browser); err != nil { // starts the browser
		t.Fatalf("starting %s: %v", chromium, err)
	}
	return browser
}

// tab is one browser tab on the demo page, for one chat user.
type tab struct {
	t    *testing.T
	name string
	ctx  context.Context
}

func openTab(t *testing.T, browser context.Context, name, pageURL string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	tb := &tab{t: t, name: name, ctx: ctx}
	tb.do("open the page", chromedp.Navigate(pageURL), chromedp.WaitVisible(chromedp.ID("connect")))
	return tb
}

// do runs steps, failing the test with what the page shows if one fails.
func (tb *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, steps...); err != nil {
		tb.fail(what, err)
	}
}

// wait polls the JavaScript function fn (called with args) until it
// returns a string that is not empty, and returns it.
func (tb *tab) wait(what, fn string, args ...any) string {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.PollFunction[string](fn,
		chromedp.WithPollingArgs(args...),
		chromedp.WithPollingInterval(20*time.Millisecond),
		chromedp.WithPollingTimeout(waitTimeout)))
	if err != nil {
		tb.fail("wait for "+what, err)
	}
	return v
}

// fail ends the test with what the page shows, and a screenshot of it.
func (tb *tab) fail(what string, err error) {
	tb.t.Helper()
	// Bounded, so that a page that hangs cannot hang the report.
	ctx, cancel := context.WithTimeout(tb.ctx, 2*time.Second)
	defer cancel()
	text, terr := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if terr != nil {
		text = "(unreadable: " + terr.Error() + ")"
	}
	if png, serr := chromedp.Run(ctx, chromedp.CaptureScreenshot()); serr == nil {
		path := filepath.Join(artifactDir(tb.t), "browser-chat-"+tb.name+"-failed.png")
		if os.WriteFile(path, png, 0o644) == nil {
			tb.t.Logf("tab %s: screenshot %s", tb.name, path)
		}
	}
	tb.t.Fatalf("tab %s: %s: %v\nthe page shows:\n%s", tb.name, what, err, text)
}

// join connects with the tab's name, joins room and returns the connection
// id that the page shows.
func (tb *tab) join(room string) string {
	tb.t.Helper()
	tb.do("connect",
		chromedp.SetValue(chromedp.ID("name"), tb.name),
		chromedp.SetValue(chromedp.ID("room"), room),
		chromedp.Click(chromedp.ID("connect")),
	)
	return tb.wait("the join of "+room, `(room) =>
		document.body.dataset.state === "open" &&
		document.getElementById("current-room").textContent === room &&
		document.getElementById("conn-id").textContent`, room)
}

// say sends text and waits for it to come back with its round trip.
func (tb *tab) say(text string) {
	tb.t.Helper()
	tb.do("send "+text,
		chromedp.SetValue(chromedp.ID("text"), text),
		chromedp.Click(chromedp.ID("send")),
	)
	latency := tb.wait("the round trip of "+text, `(text) => {
		const li = [...document.querySelectorAll("#log li.msg.own")].find((li) => li.querySelector(".text").textContent === text);
		return li && li.dataset.rttMs && li.querySelector(".latency").textContent;
	}`, text)
	tb.t.Logf("tab %s: %q: %s", tb.name, text, latency)
}

// waitLine waits for a log line of class cls from who ("": any) saying
// text.
func (tb *tab) waitLine(cls, who, text string) {
	tb.t.Helper()
	tb.wait(cls+" line "+text, `(cls, who, text) => {
		const li = [...document.querySelectorAll("#log li." + cls)].find((li) =>
			(who === "" || li.querySelector(".who")?.textContent === who) &&
			li.querySelector(".text")?.textContent === text);
		return li ? li.innerText : "";
	}`, cls, who, text)
}

func (tb *tab) screenshot(path string) {
	tb.t.Helper()
	png, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.fail("screenshot", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
	tb.t.Logf("tab %s: screenshot %s", tb.name, path)
}

// deleteConnection closes a connection through the management API.
func deleteConnection(t *testing.T, g *gateway.Gateway, id string, code int, reason string) {
	t.Helper()
	q := url.Values{"code": {strconv.Itoa(code)}, "reason": {reason}}
	req, err := http.NewRequest(http.MethodDelete, "http://"+g.AdminAddr().String()+"/@connections/"+url.PathEscape(id)+"?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+g.AdminToken())
	resp, err := (&http.Client{Timeout: waitTimeout}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE /@connections/%s: %s, want 204", id, resp.Status)
	}
}

// artifactDir is $GATECAST_ARTIFACTS, or the test's temporary directory.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("GATECAST_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// syncBuffer collects a process's or a logger's output for a failure
// report.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
