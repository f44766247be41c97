// The components this project's daprd registers: what the stack's Dapr Components use
// (manifests/40-dapr-components.yaml: state.redis and pubsub.redis) and what daprd loads by
// itself in Kubernetes mode (the kubernetes name resolver, the built-in kubernetes secret store).
//
// Dapr picks daprd's components at build time: every file of its package
// github.com/dapr/dapr/cmd/daprd/components registers one component and carries the build tag
// allcomponents (all 136) or stablecomponents (51 of them); built with neither, only
// zz_notag.go is compiled, and it panics. build.sh builds daprd from a copy of the Dapr module
// whose cmd/daprd/components holds only this file, so daprd compiles these four components'
// packages and not every cloud SDK (the six programs: 1432 packages outside the standard
// library instead of 2962 with allcomponents). A Component of another type fails in this
// daprd ("couldn't find" that type): add its registration here (its file under
// cmd/daprd/components shows the call), then bump the dapr recipe in build.sh.
//
// This file is also a package of the build module, so `go vet` checks it there.
package components

import (
	nrkubernetes "github.com/dapr/components-contrib/nameresolution/kubernetes"
	pubsubredis "github.com/dapr/components-contrib/pubsub/redis"
	secretkubernetes "github.com/dapr/components-contrib/secretstores/kubernetes"
	stateredis "github.com/dapr/components-contrib/state/redis"
	nrLoader "github.com/dapr/dapr/pkg/components/nameresolution"
	pubsubLoader "github.com/dapr/dapr/pkg/components/pubsub"
	secretstoresLoader "github.com/dapr/dapr/pkg/components/secretstores"
	stateLoader "github.com/dapr/dapr/pkg/components/state"
)

func init() {
	stateLoader.DefaultRegistry.RegisterComponent(stateredis.NewRedisStateStore, "redis")
	pubsubLoader.DefaultRegistry.RegisterComponent(pubsubredis.NewRedisStreams, "redis")
	nrLoader.DefaultRegistry.RegisterComponent(nrkubernetes.NewResolver, "kubernetes")
	secretstoresLoader.DefaultRegistry.RegisterComponent(secretkubernetes.NewKubernetesSecretStore, "kubernetes")
}
