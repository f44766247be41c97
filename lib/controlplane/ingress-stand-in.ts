// Ingress-controller stand-in for the test control plane. There is no ingress-nginx here
// (no images, no traffic), so this stands in for the one thing the pipeline observes of it:
// like ingress-nginx, it watches the Ingresses of its class and publishes the address it
// serves them on in status.loadBalancer.ingress, through the status subresource. It records
// every Ingress it was asked to serve so tests can assert on it. It routes nothing.
//
// Also runnable on its own (the controlplane CLI starts it this way):
//   npx tsx lib/controlplane/ingress-stand-in.ts --kubeconfig FILE [--address 127.0.0.1] [--class nginx]

import { pathToFileURL } from 'node:url';
import { KubeConfig, NetworkingV1Api, Watch, type V1Ingress } from '@kubernetes/client-node';

export const INGRESS_CONTROLLER = 'k8s.io/ingress-nginx';

export interface IngressStandInOptions {
  kc: KubeConfig;
  /** Address published for every Ingress (default 127.0.0.1). */
  address?: string;
  /** IngressClass served (default nginx). */
  className?: string;
  /** Create the IngressClass, marked as the cluster default, as minikube's ingress addon does (default true). */
  createIngressClass?: boolean;
  log?: (line: string) => void;
}

export interface ServedIngress {
  namespace: string;
  name: string;
  address: string;
}

export interface IngressStandIn {
  /** Every Ingress whose status this stand-in set, in order. */
  readonly served: ServedIngress[];
  stop(): Promise<void>;
}

/** Whether an Ingress is for this controller: its class, the legacy annotation, or no class when ours is the default. Pure. */
export function isOurs(ing: V1Ingress, className: string, weAreDefault: boolean): boolean {
  const cls = ing.spec?.ingressClassName ?? ing.metadata?.annotations?.['kubernetes.io/ingress.class'];
  return cls === undefined ? weAreDefault : cls === className;
}

/** True when status.loadBalancer already shows exactly this address. Pure. */
export function hasAddress(ing: V1Ingress, address: string): boolean {
  const list = ing.status?.loadBalancer?.ingress ?? [];
  return list.length === 1 && list[0].ip === address;
}

export async function startIngressStandIn(options: IngressStandInOptions): Promise<IngressStandIn> {
  const { kc } = options;
  const address = options.address ?? '127.0.0.1';
  const className = options.className ?? 'nginx';
  const log = options.log ?? (() => {});
  const api = kc.makeApiClient(NetworkingV1Api);
  const served: ServedIngress[] = [];
  const weAreDefault = options.createIngressClass !== false;

  if (weAreDefault) {
    try {
      await api.createIngressClass({
        body: {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'IngressClass',
          metadata: {
            name: className,
            annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' },
            labels: { 'app.kubernetes.io/name': 'ingress-stand-in' },
          },
          spec: { controller: INGRESS_CONTROLLER },
        },
      });
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err;
    }
  }

  let stopped = false;
  let abort: AbortController | undefined;
  const pending = new Set<Promise<void>>();

  const publish = async (ing: V1Ingress) => {
    const namespace = ing.metadata!.namespace!;
    const name = ing.metadata!.name!;
    ing.status = { loadBalancer: { ingress: [{ ip: address }] } };
    try {
      await api.replaceNamespacedIngressStatus({ name, namespace, body: ing });
      served.push({ namespace, name, address });
      log(`ingress-stand-in: ${namespace}/${name} -> ${address}`);
    } catch (err) {
      // 409: the Ingress changed meanwhile; its MODIFIED event brings us back. 404: deleted.
      const code = (err as { code?: number }).code;
      if (code !== 409 && code !== 404) log(`ingress-stand-in: could not set the status of ${namespace}/${name}: ${(err as Error).message}`);
    }
  };

  const onEvent = (phase: string, ing: V1Ingress) => {
    if (stopped || (phase !== 'ADDED' && phase !== 'MODIFIED')) return;
    if (ing.metadata?.deletionTimestamp || !isOurs(ing, className, weAreDefault) || hasAddress(ing, address)) return;
    const job = publish(ing).finally(() => pending.delete(job));
    pending.add(job);
  };

  let started: () => void;
  const firstWatch = new Promise<void>((resolve) => (started = resolve));
  const watch = () => {
    if (stopped) return;
    new Watch(kc)
      .watch('/apis/networking.k8s.io/v1/ingresses', {}, onEvent, () => {
        if (!stopped) setImmediate(watch);
      })
      .then((controller) => {
        abort = controller;
        started();
        if (stopped) controller.abort();
      })
      .catch((err) => {
        log(`ingress-stand-in: watch failed, retrying: ${(err as Error).message}`);
        if (!stopped) setTimeout(watch, 500);
      });
  };
  watch();
  await firstWatch;

  return {
    served,
    async stop() {
      stopped = true;
      abort?.abort();
      await Promise.allSettled([...pending]);
    },
  };
}

function parseCli(argv: string[]): { kubeconfig: string; address?: string; className?: string } {
  const out: { kubeconfig?: string; address?: string; className?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--kubeconfig') out.kubeconfig = value();
    else if (arg === '--address') out.address = value();
    else if (arg === '--class') out.className = value();
    else if (arg === '--help' || arg === '-h') {
      console.log('Usage: npx tsx lib/controlplane/ingress-stand-in.ts --kubeconfig FILE [--address 127.0.0.1] [--class nginx]');
      process.exit(0);
    } else throw new Error(`unknown option ${arg} (see --help)`);
  }
  if (!out.kubeconfig) throw new Error('--kubeconfig FILE is required');
  return out as { kubeconfig: string };
}

async function cli(): Promise<void> {
  try {
    const args = parseCli(process.argv.slice(2));
    const kc = new KubeConfig();
    kc.loadFromFile(args.kubeconfig);
    const standIn = await startIngressStandIn({ kc, address: args.address, className: args.className, log: (l) => console.log(l) });
    console.log('ingress-stand-in: watching Ingresses');
    const shutdown = () => void standIn.stop().then(() => process.exit(0));
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  } catch (err) {
    console.error(`ingress-stand-in: ${(err as Error).message}`);
    process.exit(1);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) void cli();
