// Versions of what the providers install into a cluster, pinned here and nowhere else.
// Each can be overridden by a setting of the same name (env file or environment).
import { UsageError } from '../errors.ts';

/**
 * Dapr runtime and Helm chart version (`helm ... --version`, `dapr init -k --runtime-version`).
 * The same release the sandbox builds and runs on its real node (DAPR_VERSION in
 * lib/controlplane/build/versions.env; a unit test keeps the two equal): the Go module proxy
 * serves only some Dapr releases, and this one is built here.
 */
export const DAPR_VERSION = '1.16.0';

/** ingress-nginx controller release whose kind manifest the kind provider applies. */
export const INGRESS_NGINX_VERSION = '1.13.3';

/** ingress-nginx's manifest for kind (hostPort 80/443 on the node labelled ingress-ready=true). */
export const INGRESS_NGINX_KIND_MANIFEST = `https://raw.githubusercontent.com/kubernetes/ingress-nginx/controller-v${INGRESS_NGINX_VERSION}/deploy/static/provider/kind/deploy.yaml`;

export const DAPR_HELM_REPO = 'https://dapr.github.io/helm-charts/';

/** The Dapr version `up` installs: DAPR_VERSION from the settings, else the pinned one. */
export function daprVersion(ctx: { settings: Record<string, string | undefined> }): string {
  const v = ctx.settings.DAPR_VERSION?.trim() || DAPR_VERSION;
  if (!/^\d+\.\d+\.\d+$/.test(v)) throw new UsageError(`DAPR_VERSION "${v}" is not a Dapr release like ${DAPR_VERSION}. Fix: set DAPR_VERSION to a version such as ${DAPR_VERSION}, or remove it to use the pinned one.`);
  return v;
}
