package routes

// MaxDepth is the nesting limit of the scanner.
const MaxDepth = maxDepth

// LookupEnd is Lookup that also returns the index just past the value.
func LookupEnd(p Path, body []byte) ([]byte, int, bool) { return p.lookup(body) }

// Fields returns p's field names.
func Fields(p Path) []string { return p.fields[:p.n] }
