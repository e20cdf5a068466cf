package broker

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/gatecast/gatecast/admission/jwtauth"
	"github.com/gatecast/gatecast/conn"
)

// Auth is what $connect requires of a client's token.
type Auth struct {
	Verifier *jwtauth.Verifier
	// Source is where the token is; the zero value is Authorization: Bearer.
	Source jwtauth.Source
	// Scopes are required of every connection.
	Scopes []string
}

// doneCtx makes Verify never wait on the loop goroutine: a JWKS fetch it
// needs goes on in the background and this upgrade is answered at once.
var doneCtx = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// authorize checks the upgrade's token. Loop goroutine.
func (h *Hub) authorize(req *conn.Request, s *session) error {
	a := h.cfg.Auth
	claims, err := a.Verifier.Authorize(doneCtx, a.Source, upgradeRequest{req}, a.Scopes)
	if err != nil {
		h.stats.authRefused.Add(1)
		var e *jwtauth.Error
		if !errors.As(err, &e) {
			return &conn.Refusal{Status: 401, Reason: "Unauthorized"}
		}
		h.log.Info("upgrade refused by auth", "status", e.Status, "reason", e.Reason, "source_ip", s.sourceIP)
		ref := &conn.Refusal{Status: e.Status, Reason: e.Public}
		if e.WWWAuthenticate != "" {
			ref.Header = append(ref.Header, conn.HeaderString{Name: "WWW-Authenticate", Value: e.WWWAuthenticate})
		}
		if e.RetryAfter > 0 {
			ref.Header = append(ref.Header, conn.HeaderString{Name: "Retry-After", Value: "1"})
		}
		return ref
	}
	x := s.extras()
	x.claims, x.scopes = claims.Raw, claims.Scopes
	return nil
}

// upgradeRequest shows a conn.Request to jwtauth.
type upgradeRequest struct{ r *conn.Request }

func (u upgradeRequest) Header(name string) string { return string(u.r.Get(name)) }

func (u upgradeRequest) Query(name string) string {
	q, _ := url.ParseQuery(string(u.r.Query()))
	return q.Get(name)
}

func (u upgradeRequest) Cookie(name string) string {
	for _, f := range u.r.Header {
		if !strings.EqualFold(string(f.Name), "Cookie") {
			continue
		}
		for _, part := range strings.Split(string(f.Value), ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			if k == name {
				return v
			}
		}
	}
	return ""
}
