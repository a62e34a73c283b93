// SPDX-License-Identifier: Apache-2.0

// Command httpd is an HTTP server on Go's defaults, run inside sandboxes
// by tests/integration/sandbox_ipv6_apps.py: http.ListenAndServe(":PORT")
// leaves the choice of socket to Go's net package, which probes the
// system once (an AF_INET6 socket bound to ::1; one with IPV6_V6ONLY off
// bound to ::ffff:127.0.0.1) and listens on one dual-stack [::] socket
// when the second bind works, on 0.0.0.0 when it does not. Built statically (CGO_ENABLED=0) at
// test time from Debian's golang-go.
//
// Every request is answered with one JSON line: the path, the local and
// remote address of its connection, as Go reports them.
package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
)

func answer(w http.ResponseWriter, r *http.Request) {
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	line, _ := json.Marshal([]string{r.URL.Path, local.String(),
		r.RemoteAddr})
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, "%s\n", line)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: httpd PORT")
		os.Exit(2)
	}
	http.HandleFunc("/", answer)
	err := http.ListenAndServe(":"+os.Args[1], nil)
	fmt.Fprintln(os.Stderr, "httpd:", err)
	os.Exit(1)
}
