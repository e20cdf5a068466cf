package waf

// CheckMessageWhole inspects a message as one text, never string by string:
// the alternative that TestMessageJSONvsRaw measures CheckMessage against.
func CheckMessageWhole(f *Firewall) func([]byte) (Finding, bool) {
	return func(b []byte) (Finding, bool) {
		c := checker{f: f}
		defer c.release()
		if r := f.inspect(c.capped(b)); r.rule != "" {
			return r.finding("message"), true
		}
		return Finding{}, false
	}
}
