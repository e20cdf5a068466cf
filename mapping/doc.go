// Package mapping reshapes HTTP requests and responses for gatecast's
// mapping integration mode, the way Amazon API Gateway's HTTP APIs do with
// parameter mapping: the request a client sent is changed before it goes
// to the backend (headers, query string, path, and a body template), and
// the backend's response before it goes to the client (headers, status
// code, and a body template).
//
//	m, err := mapping.Compile(mapping.Config{
//		RequestParameters: map[string]string{
//			"overwrite:header.Authorization": "Bearer $request.header.x-token",
//			"remove:header.X-Token":          "''",
//			"append:querystring.tenant":      "$context.authorizer.claims.tenant",
//			"overwrite:path":                 "/v2/users/$request.path.id",
//		},
//		RequestTemplate: `{"user":{{json (field "name")}},"by":{{json (claim "sub")}}}`,
//		ResponseParameters: map[string]string{
//			"overwrite:statuscode":          "$response.header.x-status",
//			"overwrite:header.X-Request-Id": "$context.requestId",
//		},
//	})
//	if err != nil {
//		// the configuration is wrong: err lists every problem
//	}
//	...
//	req := &mapping.Request{Method: "POST", Path: "/users/42", Header: ..., Body: body, ...}
//	if err := m.ApplyRequest(req); err != nil {
//		// err.(*mapping.Error).Status: 400 for ErrBadValue, 500 for ErrTemplate
//	}
//	// send req to the backend; then, with its answer:
//	resp := &mapping.Response{Status: 200, Header: h, Body: answer}
//	if err := m.ApplyResponse(resp, req); err != nil {
//		// 502
//	}
//
// Mistakes in a configuration are found by Compile, at load time; at
// request time only values can be refused, and a template can fail on
// data it does not expect (an index out of range).
//
// # Parameter keys
//
// request_parameters keys:
//
//	append:header.<name>          add a value to the header (another field line)
//	overwrite:header.<name>       set the header to the value
//	remove:header.<name>          delete the header
//	append:querystring.<name>     add a value to the query string parameter
//	overwrite:querystring.<name>  set the parameter to the value
//	remove:querystring.<name>     delete the parameter
//	overwrite:path                set the path the backend sees
//
// response_parameters keys: append, overwrite and remove of header.<name>,
// and overwrite:statuscode. The value of a remove is ignored (Amazon's
// examples write a pair of single quotes). Actions and targets are lower case; header names are
// tokens, matched without regard to case; query string names are case
// sensitive.
//
// Every value is computed from the request (or response) as it came,
// before anything changes, so mappings do not see each other's results
// and the order of keys does not matter. Then removals are applied, then
// overwrites, then appends. A value that comes out empty (a missing
// header, say) makes an overwrite delete its target and an append add
// nothing; overwrite:statuscode then leaves the status alone. A static
// empty value is a Compile error: use remove.
//
// # Reserved headers
//
// These headers cannot be mapped (Compile refuses them), in requests or in
// responses, because the connection, the gateway or NATS own them:
//
//	Connection, Keep-Alive, Proxy-Connection, Proxy-Authenticate,
//	Proxy-Authorization, TE, Trailer, Trailers, Transfer-Encoding, Upgrade,
//	Content-Length, Content-Encoding, Host, Forwarded, Via,
//	X-Forwarded-For, X-Forwarded-Host, X-Forwarded-Proto, Origin,
//	Status, Description, and every name starting with Access-Control-,
//	Gatecast- or Nats-.
//
// This is Amazon's list without Authorization (setting a backend
// credential is a common mapping) and without Amazon's own apigw-* and
// x-amz-* names, plus the gateway's and NATS' headers. CORS is the
// gateway's http.cors setting. Mappings may read any header.
//
// # Expressions
//
// A parameter value is static text mixed with variables:
//
//	"Bearer $request.header.x-token"
//	"/v2/users/$request.path.id"
//	"${request.querystring.page}-${request.querystring.size}"
//
// A variable is written $root.kind.name, or in braces ${root.kind.name}.
// Without braces, a variable is the longest run of letters, digits, '-'
// and '_', continued by '.' or "[n]" only when a letter, digit, '-' or '_'
// (or an index) follows: "$request.header.x-id." ends before the last dot
// and "$request.path.id/items" before the slash. Braces delimit a
// variable followed by a name character, and allow any characters in the
// name except '}' ("${request.header.X-Id}abc",
// "${context.authorizer.claims.https://example.com/roles}"). "$$" is a
// literal "$"; a "$" followed by anything but a letter, '{' or '$' is
// literal too ("$5"). Any other "$name" is a Compile error: stage
// variables are not supported.
//
// Variables:
//
//	$request.header.<name>            the header's values joined with ","; "" when missing
//	$request.querystring.<name>       the parameter's (decoded) values joined with ","
//	$request.path                     the whole raw path, as the client sent it
//	$request.path.<name>              a path parameter of the route ({name} or {name+}), raw
//	$request.body                     the whole body
//	$request.body.<path>              a value in the JSON body (see below)
//	$context.<name>                   Request.Context[name]: requestId, sourceIp, routeKey, httpMethod, ...
//	$context.authorizer.claims.<name> a verified JWT claim; "" without authorization
//	$response.header.<name>           (response_parameters only) the backend's header
//	$response.statuscode              (response_parameters only) the backend's status
//	$response.body                    (response_parameters only) the backend's whole body
//	$response.body.<path>             (response_parameters only) a value in its JSON body
//
// In response_parameters, $request and $context read the Request given to
// ApplyResponse.
//
// A body path is keys separated by dots, with array elements as a key of
// digits or in brackets: "user.name", "items.0.id", "items[0].id". The
// body is decoded once per request, only if a mapping reads it. A JSON
// string maps to its text, unquoted; a number, true or false, an object
// or an array to its JSON text ("42", "[\"a\",\"b\"]"); null, a missing
// value or a body that is not JSON to "". A claim maps the same way; a
// dotted claim name is looked up as one key first, then as a path into
// nested claims ("realm_access.roles").
//
// Values are checked before they are written. A header value must not
// contain a control character other than tab (CR, LF and NUL above all:
// no header injection); a query value must not contain CR, LF or NUL;
// any value is at most MaxValueBytes. overwrite:path must produce an
// absolute raw path: starting with "/" but not "//", only path characters
// and % escapes, no "." or ".." segments (not even written %2e, or set off
// by %2F or %5C, which some backends decode to separators). $request.path
// and $request.path.<name> are raw path text and go in as they are; every
// other variable is percent-encoded into one segment ('/' becomes %2F), so
// a client cannot add segments, a query string or a fragment. A static
// value that would be refused is a Compile error; a computed one makes
// ApplyRequest or ApplyResponse fail with ErrBadValue.
//
// # Templates
//
// request_template and response_template are Go text/template texts,
// with Option("missingkey=zero"), that write the new body. The request
// template's data (dot) is a *RequestData:
//
//	.Method      string
//	.Path        string             raw path
//	.Query       QueryView          decoded values; .Query.Get "name", .Query.Has "name"
//	.Header      HeaderView         .Header.Get "Name" (first value), .Header.Values "Name"
//	.PathParams  map[string]string  raw values
//	.Context     map[string]string
//	.Claims      map[string]any     nil without authorization
//	.Body        string
//
// The response template's dot is a *ResponseData: all of those, for the
// request, plus
//
//	.Status          int
//	.ResponseHeader  HeaderView
//	.ResponseBody    string
//
// Functions, besides text/template's own (and, or, not, eq, index, len,
// printf, urlquery, ...):
//
//	json v             v as a JSON literal, quoted and escaped: say "hi"<LF> -> "say \"hi\"\n"
//	field "a.b"        the request body's value at a body path, as in $request.body.<path>
//	fieldjson "a.b"    the same value as a JSON literal (strings quoted, null when missing):
//	                   always valid JSON, for passing objects and numbers through
//	header "Name"      the request header's values joined with ","
//	query "name"       the query string parameter's values joined with ","
//	path "name"        the path parameter (raw)
//	context "name"     Context[name]
//	claim "name"       the claim, as in $context.authorizer.claims.<name>
//	default d v        v, or d when v is nil, "" or an empty list or map
//	lower s, upper s   s in lower or upper case
//	base64 s           s in standard base64
//
// and in response templates only:
//
//	rfield "a.b"       the response body's value at a body path
//	rfieldjson "a.b"   the same as a JSON literal
//	rheader "Name"     the response header's values joined with ","
//
// Use the functions rather than indexing the maps: missing values print
// as "", where {{.Claims.sub}} prints "<no value>" and {{.Query.page}}
// prints "[1]". Template output is not escaped: write JSON with json and
// fieldjson. A template whose output passes MaxBodyBytes fails with
// ErrTooLarge. A new body drops the Content-Length header; the caller
// sets it from the body's length.
//
// Compile parses each template; checks field names (.Nope and $.Nope,
// except inside range and with, where the type of dot is unknown), the
// number of arguments of the functions above, and that every called
// template is defined, in every branch; and runs it once on an empty
// request and response. A template must succeed on those: guard an index
// with if, or use the functions, which cannot fail on a missing value. A number literal may only be an argument of
// index, slice, print, printf, println, json or a comparison, so no loop
// runs a number of times that the configuration alone sets ({{range
// 1000000000}}): loops are bounded by the request's own size.
//
// # Errors
//
// Compile returns an errors.Join of every problem, each matching
// ErrConfig and naming the section and key. ApplyRequest and
// ApplyResponse return an *Error carrying the HTTP status to answer with
// (400 for a request's ErrBadValue, 500 for a request's ErrTemplate, 502
// for anything in a response), the key at fault and the reason, but never
// the value itself.
//
// # Concurrency
//
// A Mapping is immutable once Compile returns and safe for concurrent use
// by any number of goroutines. ApplyRequest and ApplyResponse change only
// the Request and Response they are given, which must not be used
// concurrently by others during the call. They never block: they take no
// lock but sync.Pool's, do no I/O, and their work grows only with the
// request's and response's sizes and the templates. They allocate; a
// template that reads the body decodes it once per call.
package mapping
