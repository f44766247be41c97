// Reaching the app by name: does the domain resolve to the ingress address (node:dns, the
// way the browser will look it up)? If not, the exact hosts-file line, and with --write-hosts
// the file updated after asking. The text edit is a pure function; only writeHostsLine and
// resolvesTo touch the system.
import { lookup as dnsLookup } from 'node:dns/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { DeployError } from '../errors.ts';

export function hostsFilePath(platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? 'C:\\Windows\\System32\\drivers\\etc\\hosts' : '/etc/hosts';
}

export function hostsLine(address: string, domain: string): string {
  return `${address} ${domain}`;
}

/**
 * The hosts file with the domain mapped to the address: a line mapping only this domain is
 * replaced, the domain is taken off lines that map it among other names, and the line is
 * appended when it was not there. Comments and every other line stay as they are. Pure.
 */
export function updateHostsText(text: string, address: string, domain: string): { text: string; changed: boolean } {
  const wanted = hostsLine(address, domain);
  const lines = text.split('\n');
  const out: string[] = [];
  let present = false;
  for (const line of lines) {
    const body = line.replace(/#.*$/, '');
    const fields = body.trim().split(/\s+/).filter(Boolean);
    const names = fields.slice(1);
    if (fields.length < 2 || !names.includes(domain)) {
      out.push(line);
      continue;
    }
    if (fields[0] === address && !present) {
      present = true;
      out.push(line);
      continue;
    }
    const rest = names.filter((n) => n !== domain);
    if (rest.length > 0) out.push(`${fields[0]} ${rest.join(' ')}`);
    // A line that mapped only this domain elsewhere is dropped; ours is appended below.
  }
  if (!present) {
    while (out.length && out[out.length - 1] === '') out.pop();
    out.push(wanted, '');
  }
  const result = out.join('\n');
  return { text: result, changed: result !== text };
}

export type Lookup = (host: string) => Promise<string[]>;

const systemLookup: Lookup = async (host) => (await dnsLookup(host, { all: true })).map((a) => a.address);

/** True when the domain resolves to the address (among its addresses). */
export async function resolvesTo(domain: string, address: string, lookup: Lookup = systemLookup): Promise<boolean> {
  try {
    return (await lookup(domain)).includes(address);
  } catch {
    return false;
  }
}

export interface HostsAdvice {
  url: string;
  /** The line to add, when the domain does not resolve to the address. */
  line?: string;
  /** Why no line can help (the address is a host name, or unknown). */
  note?: string;
}

/** What to tell the user after `up`. */
export async function hostsAdvice(domain: string, address: string | undefined, lookup: Lookup = systemLookup): Promise<HostsAdvice> {
  const url = `http://${domain}/`;
  if (!address) return { url, note: 'The ingress address is not known; look it up with `kubectl get ingress -A` and map the domain to it.' };
  if (await resolvesTo(domain, address, lookup)) return { url };
  if (!isIP(address)) return { url, note: `${domain} does not resolve to the ingress host name ${address}; add a DNS CNAME record for it (a hosts file maps names to IP addresses only).` };
  return { url, line: hostsLine(address, domain) };
}

/** Writes the line into the hosts file (the caller has asked the user). */
export function writeHostsLine(file: string, address: string, domain: string): boolean {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new DeployError(`Could not read ${file}: ${(err as Error).message}.`);
  }
  const { text: updated, changed } = updateHostsText(text, address, domain);
  if (!changed) return false;
  try {
    writeFileSync(file, updated);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const fix = code === 'EACCES' || code === 'EPERM'
      ? `add it yourself with administrator rights: \`echo '${hostsLine(address, domain)}' | sudo tee -a ${file}\``
      : 'add the line yourself.';
    throw new DeployError(`Could not write ${file} (${code ?? (err as Error).message}). Fix: ${fix}`);
  }
  return true;
}
