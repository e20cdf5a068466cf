package mapping_test

import (
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"testing"

	"github.com/gatecast/gatecast/mapping"
)

// sampleRequest is a request with something in every field.
func sampleRequest() *mapping.Request {
	return &mapping.Request{
		Method: "POST",
		Path:   "/users/42/files/a%20b/c.txt",
		Query:  url.Values{"page": {"2"}, "tag": {"a", "b"}, "q": {"x y"}},
		Header: http.Header{
			"X-Token":       {"tok-123"},
			"Accept":        {"text/html", "application/json"},
			"Content-Type":  {"application/json"},
			"X-Remove-Me":   {"1"},
			"Authorization": {"Basic old"},
		},
		PathParams: map[string]string{"id": "42", "proxy": "a%20b/c.txt"},
		Context: map[string]string{
			"requestId": "req-1", "sourceIp": "192.0.2.1", "routeKey": "POST /users/{id}",
			"identity.sourceIp": "192.0.2.1",
		},
		Claims: map[string]any{
			"sub": "user-7", "admin": true, "iat": float64(1700000000), "groups": []any{"a", "b"},
			"realm_access": map[string]any{"roles": []any{"r1"}}, "https://example.com/tenant": "acme",
		},
		Body: []byte(`{"name":"Bob \"the\" builder","age":42,"price":1.50,"ok":true,"nil":null,` +
			`"items":[{"id":"i1"},{"id":"i2"}],"user":{"name":"bob","tags":["x"]},"uni":"h\u00e9llo \ud83d\ude00"}`),
	}
}

// sampleResponse is a backend response with something in every field.
func sampleResponse() *mapping.Response {
	return &mapping.Response{
		Status: 200,
		Header: http.Header{"Content-Type": {"application/json"}, "X-Status": {"201"}, "Server": {"backend/1.0"}, "Content-Length": {"27"}},
		Body:   []byte(`{"id":"o-1","total":12.5,"error":{"code":"E1"}}`),
	}
}

// mustCompile compiles cfg or fails the test.
func mustCompile(t testing.TB, cfg mapping.Config) *mapping.Mapping {
	t.Helper()
	m, err := mapping.Compile(cfg)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return m
}

// cloneRequest is a deep copy, to check that a refused request is
// unchanged.
func cloneRequest(r *mapping.Request) *mapping.Request {
	c := *r
	c.Header = r.Header.Clone()
	c.Query = url.Values(http.Header(r.Query).Clone())
	c.Body = append([]byte(nil), r.Body...)
	return &c
}

// wantApplyError checks that err is an *mapping.Error of kind with status.
func wantApplyError(t *testing.T, err, kind error, status int) {
	t.Helper()
	var me *mapping.Error
	if !errors.As(err, &me) {
		t.Fatalf("error %v (%T) is not a *mapping.Error", err, err)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("error %v does not match %v", err, kind)
	}
	if me.Status != status {
		t.Fatalf("status %d, want %d (%v)", me.Status, status, err)
	}
}

func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}
