// Package e2e holds gatecast's end-to-end tests: a gateway started in
// process, the chat example's backend built and run as its own process,
// and the demo page (package demo) driven in headless Chromium through
// the Chrome DevTools Protocol (chromedp).
//
// The browser tests need Chromium at /usr/bin/chromium or as chromium on
// PATH (Debian: apt-get install -y chromium; .ci/run installs it) and skip
// with a message saying so when it is missing. A test's screenshots go to
// $GATECAST_ARTIFACTS when it is set, else to the test's temporary
// directory; the test logs where.
//
// The package has no non-test code.
package e2e
