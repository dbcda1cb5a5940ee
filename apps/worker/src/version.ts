/** Sent as `User-Agent: Hooklane/<version>`; bumped with each release. */
export const HOOKLANE_VERSION = '0.1.0';

export const USER_AGENT = `Hooklane/${HOOKLANE_VERSION}`;
