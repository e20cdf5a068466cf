package pathtrie_test

import (
	"fmt"

	"github.com/gatecast/gatecast/routes/pathtrie"
)

func ExampleTrie_Match() {
	t, err := pathtrie.New([]pathtrie.Route{
		{Method: "GET", Path: "/users/{id}"},
		{Method: "GET", Path: "/users/me"},
		{Method: "ANY", Path: "/files/{proxy+}"},
		{Method: "POST", Path: "/users"},
	})
	if err != nil {
		panic(err)
	}
	var p pathtrie.Params
	for _, req := range [][2]string{
		{"GET", "/users/me"},
		{"GET", "/users/ann%20b"},
		{"PUT", "/files/a/b.txt"},
		{"GET", "/users"},
		{"GET", "/nope"},
	} {
		switch i := t.Match(req[0], req[1], &p); {
		case i >= 0:
			fmt.Printf("%s %s -> %v [%s]\n", req[0], req[1], t.Routes()[i], formatParams(&p))
		case t.MatchPath(req[1]):
			fmt.Println(req[0], req[1], "-> 405")
		default:
			fmt.Println(req[0], req[1], "-> 404")
		}
	}
	// Output:
	// GET /users/me -> GET /users/me []
	// GET /users/ann%20b -> GET /users/{id} [id=ann%20b]
	// PUT /files/a/b.txt -> ANY /files/{proxy+} [proxy=a/b.txt]
	// GET /users -> 405
	// GET /nope -> 404
}
