package admission

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Refusal is an admission decision against a request or a message: the
// HTTP status it answers with, how long the client should wait before
// retrying (0: do not say), and why (for logs and metrics; Reason is the
// label, Detail the sentence).
type Refusal struct {
	Status     int
	RetryAfter time.Duration
	Reason     string // short and stable: "connect_rate", "ip_conns", "ip_rate", "ip_table", "message_rate", "request_rate", "route_rate", "key_rate", "quota", "api_key", "waf", "auth"
	Detail     string // what the client may be told
}

func (r *Refusal) Error() string {
	return fmt.Sprintf("admission: %d %s: %s", r.Status, r.Reason, r.Detail)
}

// RetryAfterHeader is the Retry-After value in whole seconds, rounded up
// (at least 1), or "" when there is none.
func (r *Refusal) RetryAfterHeader() string {
	if r.RetryAfter <= 0 {
		return ""
	}
	return strconv.FormatInt(int64((r.RetryAfter+time.Second-1)/time.Second), 10)
}

func tooMany(reason, detail string, wait time.Duration) *Refusal {
	return &Refusal{Status: http.StatusTooManyRequests, RetryAfter: max(wait, time.Millisecond), Reason: reason, Detail: detail}
}
