package gateway

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatecast/gatecast/admission/jwtauth"

	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/protocol"
)

// maxAPIBody bounds a message sent through the management API.
const maxAPIBody = 1 << 20

// managementAPI adds the @connections and @topics routes (docs/protocol.md).
func (g *Gateway) managementAPI(mux *http.ServeMux) {
	mux.Handle("POST /@connections/{id}", g.authed(g.postConnection))
	mux.Handle("GET /@connections/{id}", g.authed(g.getConnection))
	mux.Handle("DELETE /@connections/{id}", g.authed(g.deleteConnection))
	mux.Handle("PUT /@connections/{id}/topics/{topic}", g.authed(g.topicMembership(protocol.CommandJoin)))
	mux.Handle("DELETE /@connections/{id}/topics/{topic}", g.authed(g.topicMembership(protocol.CommandLeave)))
	mux.Handle("POST /@topics/{topic}", g.authed(g.postTopic))
	mux.Handle("GET /@topics/{topic}", g.authed(g.getTopic))
}

// authed requires the admin bearer token, or (with auth.jwt) a token
// carrying the admin scope.
func (g *Gateway) authed(fn http.HandlerFunc) http.Handler {
	want := []byte("Bearer " + g.token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) == 1 {
			fn(w, r)
			return
		}
		if g.verifier != nil {
			_, err := g.verifier.Authorize(r.Context(), jwtauth.Source{}, jwtauth.HTTPRequest(r), []string{g.cfg.Auth.AdminScope})
			var e *jwtauth.Error
			if err == nil {
				fn(w, r)
				return
			}
			if errors.As(err, &e) && e.Status == http.StatusForbidden {
				w.Header().Set("WWW-Authenticate", e.WWWAuthenticate)
				writeError(w, http.StatusForbidden, "the token lacks the admin scope "+g.cfg.Auth.AdminScope)
				return
			}
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatecast admin"`)
		writeError(w, http.StatusUnauthorized, "missing or wrong admin bearer token (admin.token or GATECAST_ADMIN_TOKEN)")
	})
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		Message string `json:"message"`
	}{msg})
}

func apiContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), 10*time.Second)
}

// connection parses the {id} path value, answering 404 for ids that
// cannot exist.
func connection(w http.ResponseWriter, r *http.Request) (protocol.ConnectionID, bool) {
	id, err := protocol.ParseConnectionID(r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusNotFound, "no such connection: "+err.Error())
		return id, false
	}
	return id, true
}

func (g *Gateway) command(w http.ResponseWriter, r *http.Request, id protocol.ConnectionID, cmd string, hdr nats.Header, body []byte) {
	ctx, cancel := apiContext(r)
	defer cancel()
	res := g.hub.Command(ctx, id, cmd, hdr, body)
	if res.Status >= 300 {
		writeError(w, res.Status, res.Error)
		return
	}
	if len(res.Body) > 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(res.Status)
		w.Write(res.Body)
		return
	}
	w.WriteHeader(res.Status)
}

func (g *Gateway) postConnection(w http.ResponseWriter, r *http.Request) {
	id, ok := connection(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAPIBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "message over 1 MiB")
		return
	}
	hdr := nats.Header{}
	if binaryBody(r) {
		hdr.Set(protocol.HeaderMessageType, protocol.MessageBinary)
	}
	g.command(w, r, id, protocol.CommandSend, hdr, body)
}

// binaryBody reports whether the request asks for a binary message.
func binaryBody(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/octet-stream"
}

func (g *Gateway) getConnection(w http.ResponseWriter, r *http.Request) {
	if id, ok := connection(w, r); ok {
		g.command(w, r, id, protocol.CommandInfo, nil, nil)
	}
}

func (g *Gateway) deleteConnection(w http.ResponseWriter, r *http.Request) {
	id, ok := connection(w, r)
	if !ok {
		return
	}
	hdr := nats.Header{}
	if code := r.URL.Query().Get("code"); code != "" {
		if _, err := strconv.Atoi(code); err != nil {
			writeError(w, http.StatusBadRequest, "code must be a number: 1000 or 3000-4999")
			return
		}
		hdr.Set(protocol.HeaderCloseCode, code)
	}
	if reason := r.URL.Query().Get("reason"); reason != "" {
		hdr.Set(protocol.HeaderCloseReason, reason)
	}
	g.command(w, r, id, protocol.CommandClose, hdr, nil)
}

func (g *Gateway) topicMembership(cmd string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := connection(w, r)
		if !ok {
			return
		}
		g.command(w, r, id, cmd, nil, []byte(r.PathValue("topic")))
	}
}

func (g *Gateway) postTopic(w http.ResponseWriter, r *http.Request) {
	topic := r.PathValue("topic")
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAPIBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "message over 1 MiB")
		return
	}
	if err := g.hub.Publish(topic, binaryBody(r), body, r.URL.Query().Get("exclude")); err != nil {
		status := http.StatusServiceUnavailable
		if strings.Contains(err.Error(), "invalid topic") {
			status = http.StatusBadRequest
		}
		writeError(w, status, err.Error())
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (g *Gateway) getTopic(w http.ResponseWriter, r *http.Request) {
	topic := r.PathValue("topic")
	ctx, cancel := apiContext(r)
	defer cancel()
	n, err := g.hub.TopicMembers(ctx, topic)
	if err != nil {
		status := http.StatusServiceUnavailable
		if !protocol.ValidTopic(topic) {
			status = http.StatusBadRequest
		}
		writeError(w, status, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(struct {
		Topic   string `json:"topic"`
		Members int    `json:"members"`
	}{topic, n})
}
