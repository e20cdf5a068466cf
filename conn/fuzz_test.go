package conn_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"

	"github.com/gatecast/gatecast/conn"
)

// fuzzMaxHead is the head limit of the FuzzHandshake server: small, so
// the fuzzer reaches the 431 path.
const fuzzMaxHead = 1024

var statusLine = regexp.MustCompile(`^HTTP/1\.1 [1-5][0-9][0-9] [^\r\n]*\r\n`)

// FuzzHandshake sends arbitrary bytes as the request head. The server must
// answer a complete head (one that ends with CRLFCRLF within MaxHeadBytes)
// with an HTTP status line, and either answer or close on anything else;
// it must not panic, and every socket must be closed afterwards.
func FuzzHandshake(f *testing.F) {
	for _, seed := range []string{
		upgradeRequest("/"),
		upgradeRequest("/", "Origin: https://good.example", "Sec-WebSocket-Protocol: chat, superchat"),
		upgradeRequest("/", "Origin: https://evil.example"),
		buildRequest("GET / HTTP/1.1", replaced(baseHeaders(), "Sec-WebSocket-Version: 8")...),
		buildRequest("GET / HTTP/1.1", without(baseHeaders(), "Sec-WebSocket-Key")...),
		buildRequest("POST / HTTP/1.1", baseHeaders()...),
		upgradeRequest("/other"),
		"garbage\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\n",
		upgradeRequest("/") + string(maskedFrame(ws.OpText, true, []byte("hi"))),
		upgradeRequest("/?refuse", "X-Custom: 1"),
		upgradeRequest("/?defer") + string(maskedFrame(ws.OpText, true, []byte("early"))),
	} {
		f.Add([]byte(seed))
	}
	// The handler decides on upgrades too: by the request target, it
	// accepts, refuses, or defers and accepts a moment later.
	h := &connectHandler{decide: func(c *conn.Conn, r *conn.Request) error {
		switch {
		case bytes.Contains(r.URI, []byte("refuse")):
			return &conn.Refusal{Status: http.StatusForbidden, Header: []conn.HeaderString{{Name: "Retry-After", Value: "1"}}}
		case bytes.Contains(r.URI, []byte("defer")):
			c.Do(c.Accept)
			return conn.ErrDeferred
		}
		return nil
	}}
	srv := startServer(f, conn.Config{
		Loops:          1,
		MaxHeadBytes:   fuzzMaxHead,
		CheckOrigin:    func(o []byte) bool { return !bytes.Contains(o, []byte("evil")) },
		SelectProtocol: func(p []byte) bool { return string(p) == "superchat" },
	}, h)
	f.Fuzz(func(t *testing.T, req []byte) {
		c := dial(t, srv, 0)
		go func() {
			c.nc.Write(req) // errors mean the server closed early: fine
			c.nc.(*net.TCPConn).CloseWrite()
		}()
		c.nc.SetReadDeadline(time.Now().Add(ioTimeout))
		out, err := io.ReadAll(c.br)
		if err != nil && !isReset(err) {
			t.Fatalf("reading the answer: %v (got %q)", err, out)
		}
		end := bytes.Index(req, []byte("\r\n\r\n"))
		complete := end >= 0 && end+4 <= fuzzMaxHead
		switch {
		case len(out) > 0 && !statusLine.Match(out):
			t.Fatalf("answer does not start with a status line: %q", abbrev(out))
		case len(out) == 0 && complete:
			t.Fatalf("a complete request head got no answer")
		case len(out) == 0 && len(req) > fuzzMaxHead:
			t.Fatalf("a head over MaxHeadBytes got no 431")
		}
		if bytes.HasPrefix(out, []byte("HTTP/1.1 101 ")) && !bytes.Contains(out, []byte("\r\nSec-WebSocket-Accept: ")) {
			t.Fatalf("101 without Sec-WebSocket-Accept: %q", abbrev(out))
		}
		c.nc.Close()
		waitFor(t, "server sockets to close", ioTimeout, func() bool { return srv.Stats().Sockets == 0 })
	})
}

// Limits of the FuzzFrames server, small so that the fuzzer reaches them.
const (
	fuzzMaxFrame   = 1024
	fuzzMaxMessage = 4096
)

// FuzzFrames sends arbitrary bytes, in up to three writes, after a valid
// handshake. The server's answer must be exactly what a model of an RFC
// 6455 echo server says (the data and pong frames, then the close code);
// the server must not panic, must close every socket, and must never hold
// buffers beyond what its limits allow.
func FuzzFrames(f *testing.F) {
	mf := func(op ws.OpCode, fin bool, p string) []byte { return maskedFrame(op, fin, []byte(p)) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	for _, seed := range [][]byte{
		mf(ws.OpText, true, "hello"),
		cat(mf(ws.OpText, false, "frag"), mf(ws.OpPing, true, "p"), mf(ws.OpContinuation, true, "ment")),
		cat(mf(ws.OpText, false, "a\xe2"), mf(ws.OpContinuation, true, "\x82\xac")),
		mf(ws.OpText, true, "\xed\xa0\x80"),
		mf(ws.OpClose, true, "\x03\xe8bye"),
		mf(ws.OpClose, true, ""),
		mf(ws.OpBinary, true, string(pattern(fuzzMaxFrame+1))),
		header64(ws.OpBinary, 1<<63),
		rawFrame(ws.Header{Fin: true, OpCode: ws.OpText, Length: 2}, []byte("hi")),
		// Zero masks keep payloads readable for the mutator.
		{0x81, 0x82, 0, 0, 0, 0, 'h', 'i', 0x89, 0x80, 0, 0, 0, 0, 0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8},
	} {
		f.Add(seed, uint16(len(seed)/3), uint16(2*len(seed)/3))
	}
	cfg := conn.Config{Loops: 1, MaxHeadBytes: 2048, MaxFrameBytes: fuzzMaxFrame, MaxMessageBytes: fuzzMaxMessage}
	// The buffer that held the request head may carry the first frames.
	maxIn := max(conn.BufCap(cfg.MaxHeadBytes), conn.BufCap(fuzzMaxFrame+14))
	maxMsg := conn.BufCap(fuzzMaxMessage)
	var (
		mu         sync.Mutex
		violations []string
	)
	checkHeld := func(c *conn.Conn) {
		in, msg, _ := conn.HeldBytes(c)
		if in > maxIn || msg > maxMsg {
			mu.Lock()
			violations = append(violations, "holding "+strconv.Itoa(in)+" bytes of input and "+strconv.Itoa(msg)+" of message")
			mu.Unlock()
		}
	}
	h := &testHandler{onMessage: func(c *conn.Conn, _ ws.OpCode, _ []byte) bool {
		checkHeld(c)
		return false
	}}
	srv := startServer(f, cfg, h)

	conns := 0 // the fuzz function runs one input at a time
	f.Fuzz(func(t *testing.T, data []byte, cut1, cut2 uint16) {
		c := open(t, srv)
		conns++
		sc := h.waitOpened(t, conns)
		start := srv.Stats()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)

		cuts := []int{0, min(int(cut1), len(data)), min(max(int(cut1), int(cut2)), len(data)), len(data)}
		wrote := make(chan struct{})
		go func() {
			defer close(wrote)
			for i := 1; i < len(cuts); i++ {
				if _, err := c.nc.Write(data[cuts[i-1]:cuts[i]]); err != nil {
					return // the server closed: fine
				}
				// Let the server read this piece before the next, so the
				// pieces are read separately; stop waiting once it closed.
				deadline := time.Now().Add(ioTimeout)
				for srv.Stats().BytesIn < start.BytesIn+uint64(cuts[i]) && srv.Stats().Sockets > 0 && time.Now().Before(deadline) {
					held := make(chan struct{})
					if !sc.Do(func() { checkHeld(sc); close(held) }) {
						return
					}
					<-held
					time.Sleep(20 * time.Microsecond)
				}
			}
			c.nc.(*net.TCPConn).CloseWrite()
		}()
		c.nc.SetReadDeadline(time.Now().Add(ioTimeout))
		out, err := io.ReadAll(c.br)
		if err != nil && !isReset(err) {
			t.Fatalf("reading the answer: %v", err)
		}
		<-wrote
		c.nc.Close()
		waitFor(t, "server sockets to close", ioTimeout, func() bool { return srv.Stats().Sockets == 0 })
		runtime.ReadMemStats(&after)

		got, gotClose, gotCode := parseServerFrames(t, out)
		if srv.Stats().Dropped == start.Dropped {
			want, wantClose, wantCode := modelEcho(data, fuzzMaxFrame, fuzzMaxMessage)
			if !equalFrames(got, want) {
				t.Fatalf("server sent %d frames %s, model says %d frames %s", len(got), describe(got), len(want), describe(want))
			}
			if gotClose != wantClose || gotCode != wantCode {
				t.Fatalf("server close: sent %v code %d; model: sent %v code %d", gotClose, gotCode, wantClose, wantCode)
			}
		}
		// Only the client's data is in flight; a megabyte more means the
		// server allocated for what the headers announced.
		if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20+8*uint64(len(data)) {
			t.Fatalf("allocated %d bytes for %d input bytes", d, len(data))
		}
		mu.Lock()
		defer mu.Unlock()
		if len(violations) > 0 {
			t.Fatalf("buffers over the limits: %v", violations)
		}
	})
}

// isReset reports whether err is the connection reset a server causes by
// closing a socket with unread input: a way of closing, not a failure.
func isReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }

type wireFrame struct {
	op      ws.OpCode
	payload []byte
}

func equalFrames(a, b []wireFrame) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].op != b[i].op || !bytes.Equal(a[i].payload, b[i].payload) {
			return false
		}
	}
	return true
}

func describe(fs []wireFrame) string {
	var b bytes.Buffer
	for i, f := range fs {
		if i == 8 {
			b.WriteString(" ...")
			break
		}
		fmt.Fprintf(&b, " %v:%d", f.op, len(f.payload))
	}
	return "[" + b.String() + " ]"
}

// parseServerFrames checks the server's byte stream: whole, unmasked,
// final frames of the kinds a server sends, text that is UTF-8, and
// nothing after a close frame. It returns the data and pong frames, and
// whether a close frame ended the stream and with which code (0 for an
// empty close frame).
func parseServerFrames(t *testing.T, out []byte) (frames []wireFrame, closed bool, code ws.StatusCode) {
	t.Helper()
	r := bytes.NewReader(out)
	for r.Len() > 0 {
		if closed {
			t.Fatalf("%d bytes after the close frame", r.Len())
		}
		h, err := ws.ReadHeader(r)
		if err != nil {
			t.Fatalf("bad server frame header: %v", err)
		}
		if h.Masked || h.Rsv != 0 || !h.Fin {
			t.Fatalf("server frame %+v: masked, RSV or not final", h)
		}
		if h.Length > int64(r.Len()) {
			t.Fatalf("server frame of %d bytes cut at %d", h.Length, r.Len())
		}
		p := make([]byte, h.Length)
		io.ReadFull(r, p)
		switch h.OpCode {
		case ws.OpText:
			if !utf8.Valid(p) {
				t.Fatalf("server sent invalid UTF-8 in a text frame")
			}
		case ws.OpBinary:
		case ws.OpPong:
			if len(p) > 125 {
				t.Fatalf("pong of %d bytes", len(p))
			}
		case ws.OpClose:
			closed = true
			if len(p) == 1 || len(p) > 125 {
				t.Fatalf("close frame payload of %d bytes", len(p))
			}
			if len(p) >= 2 {
				c, reason := ws.ParseCloseFrameData(p)
				if err := ws.CheckCloseFrameData(c, reason); err != nil {
					t.Fatalf("server close frame %d %q: %v", c, reason, err)
				}
				code = c
			}
			continue
		default:
			t.Fatalf("server sent a %v frame", h.OpCode)
		}
		frames = append(frames, wireFrame{h.OpCode, p})
	}
	return frames, closed, code
}

// modelEcho is what an RFC 6455 echo server answers to in (the client's
// bytes after the handshake): the data and pong frames, and whether it
// sends a close frame and with which code (0 for an empty one). Where the
// RFC leaves a choice, the model makes gatecast's: header checks come
// before size limits, and fragmented text fails on the first fragment
// that no continuation could make valid UTF-8.
func modelEcho(in []byte, maxFrame, maxMessage int) (out []wireFrame, closed bool, code ws.StatusCode) {
	var (
		msg        []byte
		fragmented bool
		text       bool
	)
	for {
		if len(in) < 2 {
			return out, false, 0
		}
		fin, rsv, op, masked := in[0]&0x80 != 0, in[0]&0x70, ws.OpCode(in[0]&0x0f), in[1]&0x80 != 0
		hn, length := 2, uint64(in[1]&0x7f)
		switch length {
		case 126:
			if len(in) < 4 {
				return out, false, 0
			}
			hn, length = 4, uint64(binary.BigEndian.Uint16(in[2:]))
		case 127:
			if len(in) < 10 {
				return out, false, 0
			}
			hn, length = 10, binary.BigEndian.Uint64(in[2:])
			if length>>63 != 0 {
				return out, true, ws.StatusProtocolError
			}
		}
		var mask [4]byte
		if masked {
			if len(in) < hn+4 {
				return out, false, 0
			}
			copy(mask[:], in[hn:])
			hn += 4
		}
		control := op&0x8 != 0
		reserved := (op >= 3 && op <= 7) || op >= 0xb
		switch {
		case reserved, control && (length > 125 || !fin), rsv != 0, !masked,
			fragmented && !control && op != ws.OpContinuation,
			!fragmented && op == ws.OpContinuation:
			return out, true, ws.StatusProtocolError
		case !control && (length > uint64(maxFrame) || uint64(len(msg))+length > uint64(maxMessage)):
			return out, true, ws.StatusMessageTooBig
		}
		if uint64(len(in)-hn) < length {
			return out, false, 0
		}
		p := bytes.Clone(in[hn : hn+int(length)])
		ws.Cipher(p, mask, 0)
		in = in[hn+int(length):]
		switch op {
		case ws.OpPing:
			out = append(out, wireFrame{ws.OpPong, p})
		case ws.OpPong:
		case ws.OpClose:
			switch {
			case len(p) == 0:
				return out, true, 0
			case len(p) == 1:
				return out, true, ws.StatusProtocolError
			}
			c := ws.StatusCode(binary.BigEndian.Uint16(p))
			if !validCloseCode(c) {
				return out, true, ws.StatusProtocolError
			}
			if !utf8.Valid(p[2:]) {
				return out, true, ws.StatusInvalidFramePayloadData
			}
			return out, true, c
		default:
			if op != ws.OpContinuation {
				fragmented, text, msg = true, op == ws.OpText, nil
			}
			msg = append(msg, p...)
			if text && !continuableUTF8(msg) || fin && text && !utf8.Valid(msg) {
				return out, true, ws.StatusInvalidFramePayloadData
			}
			if fin {
				opc := ws.OpBinary
				if text {
					opc = ws.OpText
				}
				out = append(out, wireFrame{opc, msg})
				fragmented, msg = false, nil
			}
		}
	}
}

// validCloseCode is RFC 6455, 7.4: the defined codes a peer may send, and
// the ranges for registered and private codes.
func validCloseCode(c ws.StatusCode) bool {
	switch {
	case c >= 1000 && c <= 1003, c >= 1007 && c <= 1011:
		return true
	case c >= 3000 && c <= 4999:
		return true
	}
	return false
}

// continuableUTF8 reports whether p is valid UTF-8 or a prefix of some.
func continuableUTF8(p []byte) bool {
	for k := max(0, len(p)-3); k <= len(p); k++ {
		if utf8.Valid(p[:k]) && (k == len(p) || !utf8.FullRune(p[k:])) {
			return true
		}
	}
	return false
}
