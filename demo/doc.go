// Package demo is a chat room web page for trying gatecast in a browser:
// plain HTML, CSS and JavaScript embedded in the binary, talking to the
// chat example's backend (examples/chat) through the gateway's WebSocket.
//
// The page asks for a display name and a room, connects to the WebSocket
// path on its own host (ws:// from an http:// page, wss:// from https://,
// so the gateway's Origin check passes), joins the room, and shows every
// message with its latency: the round trip of the page's own messages,
// and the time since the backend stamped the others. It shows the
// connection id the chat backend reports on join, and the close code and
// reason when the connection ends.
//
// The gateway serves it only in demo mode (http.demo_page, gatecast serve
// --demo), which is off by default and meant to stay off in production:
//
//	h := demo.Handler("/", routes) // the page at GET /, assets under /@demo/
//
// Handler is goroutine-safe and holds no state besides the embedded files.
package demo
