// Versions of what the providers install into a cluster, pinned here and nowhere else.
// Each can be overridden by a setting of the same name (env file or environment).

/** Dapr runtime and Helm chart version (`helm ... --version`, `dapr init -k --runtime-version`). */
export const DAPR_VERSION = '1.16.9';

/** ingress-nginx controller release whose kind manifest the kind provider applies. */
export const INGRESS_NGINX_VERSION = '1.13.3';

/** ingress-nginx's manifest for kind (hostPort 80/443 on the node labelled ingress-ready=true). */
export const INGRESS_NGINX_KIND_MANIFEST = `https://raw.githubusercontent.com/kubernetes/ingress-nginx/controller-v${INGRESS_NGINX_VERSION}/deploy/static/provider/kind/deploy.yaml`;

export const DAPR_HELM_REPO = 'https://dapr.github.io/helm-charts/';
