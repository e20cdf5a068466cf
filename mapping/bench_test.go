package mapping_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/gatecast/gatecast/mapping"
)

// benchRequest is a typical small API request.
func benchRequest() *mapping.Request {
	return &mapping.Request{
		Method:     "POST",
		Path:       "/users/42/orders",
		Query:      url.Values{"page": {"2"}},
		Header:     http.Header{"X-Token": {"tok-123"}, "Content-Type": {"application/json"}, "Accept": {"application/json"}},
		PathParams: map[string]string{"id": "42"},
		Context:    map[string]string{"requestId": "req-1", "sourceIp": "192.0.2.1"},
		Claims:     map[string]any{"sub": "user-7"},
		Body:       []byte(`{"item":"book","qty":2,"note":"gift \"wrap\""}`),
	}
}

// BenchmarkApplyRequest maps three headers and writes a small JSON body
// with a template; the sub-benchmarks split the cost between the two.
func BenchmarkApplyRequest(b *testing.B) {
	params := map[string]string{
		"overwrite:header.Authorization": "Bearer $request.header.x-token",
		"overwrite:header.X-User":        "$context.authorizer.claims.sub",
		"remove:header.X-Token":          "''",
	}
	tmpl := `{"user":{{json (claim "sub")}},"item":{{fieldjson "item"}},"qty":{{fieldjson "qty"}},"id":{{json (path "id")}}}`
	for _, bc := range []struct {
		name string
		cfg  mapping.Config
	}{
		{"mapping=params+template", mapping.Config{RequestParameters: params, RequestTemplate: tmpl}},
		{"mapping=params", mapping.Config{RequestParameters: params}},
		{"mapping=template", mapping.Config{RequestTemplate: tmpl}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m := mustCompile(b, bc.cfg)
			reqs := make([]*mapping.Request, 1024)
			for i := range reqs {
				reqs[i] = benchRequest()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				r := reqs[i%len(reqs)]
				if err := m.ApplyRequest(r); err != nil {
					b.Fatal(err)
				}
				if i%len(reqs) == len(reqs)-1 {
					b.StopTimer()
					for j := range reqs {
						reqs[j] = benchRequest()
					}
					b.StartTimer()
				}
			}
		})
	}
}

// BenchmarkApplyResponse maps a status and a header and wraps the body.
func BenchmarkApplyResponse(b *testing.B) {
	m := mustCompile(b, mapping.Config{
		ResponseParameters: map[string]string{
			"overwrite:statuscode":          "$response.header.x-status",
			"overwrite:header.X-Request-Id": "$context.requestId",
		},
		ResponseTemplate: `{"data":{{.ResponseBody}},"requestId":{{json (context "requestId")}}}`,
	})
	req := benchRequest()
	body := []byte(`{"id":"o-1","total":12.5}`)
	b.ReportAllocs()
	for b.Loop() {
		resp := &mapping.Response{Status: 200, Header: http.Header{"X-Status": {"201"}}, Body: body}
		if err := m.ApplyResponse(resp, req); err != nil {
			b.Fatal(err)
		}
	}
}
