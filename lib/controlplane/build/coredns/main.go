// The sandbox's CoreDNS: the upstream command (coremain) with only the plugins the node's
// Corefile uses (COREFILE in lib/controlplane/node/render.ts). Upstream's default build
// compiles in every plugin of its plugin.cfg, whose cloud back ends (route53, azure,
// clouddns, ...) pull in their SDKs and made a first build take about 17 minutes here.
//
// This is the way CoreDNS documents builds with their own plugin set: import coremain and
// the wanted plugin packages (each registers itself when imported), and set
// dnsserver.Directives, the execution order, before the server starts. The order is not
// written down here: it is upstream's (its plugin.cfg, generated into dnsserver.Directives),
// kept to the plugins below.
package main

import (
	"fmt"
	"os"
	"slices"

	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	// Keep this list and `plugins` below equal to the Corefile's directives
	// (test/unit/controlplane.test.ts checks), and bump the coredns recipe in build.sh.
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
)

// The directives compiled in (a plugin's directive is its package's name for these).
var plugins = []string{"cache", "errors", "health", "kubernetes", "loadbalance", "loop", "ready", "reload"}

func init() {
	// Upstream's order, kept to ours: every plugin sees the ones after it in a request.
	order := slices.DeleteFunc(slices.Clone(dnsserver.Directives), func(d string) bool { return !slices.Contains(plugins, d) })
	if len(order) != len(plugins) {
		fmt.Fprintf(os.Stderr, "coredns: a compiled-in plugin is not among upstream's directives %v (wanted %v)\n", dnsserver.Directives, plugins)
		os.Exit(1)
	}
	if err := dnsserver.SetDirectives(order); err != nil {
		fmt.Fprintf(os.Stderr, "coredns: %v\n", err)
		os.Exit(1)
	}
}

func main() {
	coremain.Run()
}
