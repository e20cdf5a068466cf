package mapping_test

import (
	"fmt"
	"net/http"

	"github.com/gatecast/gatecast/mapping"
)

func Example() {
	m, err := mapping.Compile(mapping.Config{
		RequestParameters: map[string]string{
			"overwrite:header.Authorization": "Bearer $request.header.x-token",
			"remove:header.X-Token":          "''",
			"overwrite:path":                 "/v2/users/$request.path.id",
			"append:querystring.by":          "$context.authorizer.claims.sub",
		},
		RequestTemplate:    `{"name":{{json (field "name")}},"requestId":{{json (context "requestId")}}}`,
		ResponseParameters: map[string]string{"overwrite:statuscode": "$response.header.x-status", "remove:header.X-Status": "''"},
		ResponseTemplate:   `{"data":{{.ResponseBody}}}`,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	req := &mapping.Request{
		Method: "PUT", Path: "/users/42",
		Header:     http.Header{"X-Token": {"secret"}},
		PathParams: map[string]string{"id": "42"},
		Context:    map[string]string{"requestId": "r-1"},
		Claims:     map[string]any{"sub": "alice"},
		Body:       []byte(`{"name":"Alice \"Al\" Smith"}`),
	}
	if err := m.ApplyRequest(req); err != nil {
		fmt.Println(err) // an *mapping.Error: answer its Status
		return
	}
	fmt.Println(req.Path, req.Query.Encode(), req.Header)
	fmt.Println(string(req.Body))

	resp := &mapping.Response{Status: 200, Header: http.Header{"X-Status": {"201"}}, Body: []byte(`{"ok":true}`)}
	if err := m.ApplyResponse(resp, req); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Status, resp.Header, string(resp.Body))
	// Output:
	// /v2/users/42 by=alice map[Authorization:[Bearer secret]]
	// {"name":"Alice \"Al\" Smith","requestId":"r-1"}
	// 201 map[] {"data":{"ok":true}}
}

func ExampleCompile_errors() {
	_, err := mapping.Compile(mapping.Config{
		RequestParameters: map[string]string{
			"overwrite:header.Host": "backend",
			"overwrite:header.X-Id": "$request.cookie.id",
		},
		RequestTemplate: `{{.Nope}}`,
	})
	fmt.Println(err)
	// Output:
	// mapping: request_parameters["overwrite:header.Host"]: header Host is reserved: the gateway or the connection sets it (see the reserved headers in the mapping package documentation)
	// mapping: request_parameters["overwrite:header.X-Id"]: $request.cookie.id: unknown variable: want $request.header.<name>, $request.querystring.<name>, $request.path, $request.path.<parameter>, $request.body or $request.body.<path>
	// mapping: request_template: request_template:1:2: can't evaluate field Nope in type *mapping.RequestData
}
