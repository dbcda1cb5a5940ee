import { lookup as systemLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { isIpLiteral, isPrivateAddress, isPrivateLiteralHost, normalizeHost } from '@hooklane/core';
import { PrivateAddressError } from './errors.js';

/**
 * Server-side request forgery guard. The check runs on the address a name RESOLVES to,
 * inside the lookup got hands to the socket, so the address judged is the address
 * connected to (no window for DNS rebinding) and every redirect hop goes through it.
 * IP-literal hosts skip DNS, so they are judged by `checkUrl` before each hop.
 */

/** True when an address must not be connected to; `hostname` is what the URL named. */
export type AddressPolicy = (address: string, hostname: string) => boolean;

export const refusePrivateAddresses: AddressPolicy = (address) => isPrivateAddress(address);

export interface TargetGuardOptions {
  allowPrivateTargets: boolean;
  /** Name resolution; tests map names such as `hooks.example.test` to loopback. */
  lookup?: LookupFunction | undefined;
  /** Which resolved addresses are refused; tests may allow-list one test name. */
  isRefused?: AddressPolicy | undefined;
}

export interface TargetGuard {
  /** For got's `dnsLookup`. */
  lookup: LookupFunction;
  /** Throws PrivateAddressError for a URL whose host is a private literal (IP, `localhost`). */
  checkUrl(url: URL): void;
}

type LookupCallback = Parameters<LookupFunction>[2];

function notFound(hostname: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
}

export function createTargetGuard(options: TargetGuardOptions): TargetGuard {
  const baseLookup: LookupFunction = options.lookup ?? (systemLookup as LookupFunction);
  if (options.allowPrivateTargets) return { lookup: baseLookup, checkUrl: () => undefined };

  const isRefused = options.isRefused ?? refusePrivateAddresses;

  const lookup: LookupFunction = (hostname, lookupOptions, callback: LookupCallback) => {
    // Ask for every address and judge them all: a name answering with one public and one
    // private address must not get through on a lucky pick.
    baseLookup(hostname, { ...lookupOptions, all: true }, (err, addresses, family) => {
      if (err) return callback(err, '', 0);
      const list: LookupAddress[] = Array.isArray(addresses)
        ? addresses
        : [{ address: addresses, family: family ?? 4 }];
      const first = list[0];
      if (!first) return callback(notFound(hostname), '', 0);
      const refused = list.find((entry) => isRefused(entry.address, hostname));
      if (refused) return callback(new PrivateAddressError(refused.address) as NodeJS.ErrnoException, '', 0);
      if (lookupOptions.all) return callback(null, list);
      return callback(null, first.address, first.family);
    });
  };

  const checkUrl = (url: URL): void => {
    const host = normalizeHost(url.hostname);
    if (isIpLiteral(url.hostname)) {
      if (isRefused(host, host)) throw new PrivateAddressError(host);
      return;
    }
    if (isPrivateLiteralHost(url.hostname)) throw new PrivateAddressError(host);
  };

  return { lookup, checkUrl };
}
