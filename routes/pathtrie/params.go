package pathtrie

// Params holds the parameters of a match, in the order they appear in the
// template. It is a fixed-size value, so a Params on the caller's stack
// costs no allocation. Values are substrings of the path given to Match,
// still percent-encoded; a greedy parameter's value is the rest of the path
// after its slash and may contain '/'. The zero Params is empty.
type Params struct {
	n      int
	names  [MaxParams]string
	values [MaxParams]string
}

// Len returns the number of parameters.
func (p *Params) Len() int { return p.n }

// Name returns the name of parameter i, 0 <= i < Len(), without braces or
// '+'.
func (p *Params) Name(i int) string { return p.names[:p.n][i] }

// Value returns the value of parameter i, 0 <= i < Len().
func (p *Params) Value(i int) string { return p.values[:p.n][i] }

// Get returns the value of the parameter called name.
func (p *Params) Get(name string) (string, bool) {
	for i := range p.n {
		if p.names[i] == name {
			return p.values[i], true
		}
	}
	return "", false
}

// Reset empties p and drops its references to the last matched path, so a
// pooled Params does not keep a request's path alive.
func (p *Params) Reset() { *p = Params{} }
